/** The model registry (`/api/admin/models`, super admins) as TanStack Query hooks. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap, type Schemas } from "@/lib/api";

import { adminKeys } from "./api";

export type Model = Schemas["ModelRead"];
export type Backend = Schemas["BackendRead"];
export type ModelCreate = Schemas["ModelCreate"];
export type ModelUpdate = Schemas["ModelUpdate"];
export type BackendCreate = Schemas["BackendCreate"];
export type BackendUpdate = Schemas["BackendUpdate"];

/** Every registered model, enabled or not, with its backends. */
export function useModels() {
  return useQuery({
    queryKey: adminKeys.models,
    queryFn: () => unwrap(api.GET("/admin/models")),
  });
}

/** After any registry change: the admin list and the catalog every member sees. */
function useRefreshModels() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: adminKeys.models }),
      queryClient.invalidateQueries({ queryKey: ["models"] }),
    ]);
}

export function useCreateModel() {
  const refresh = useRefreshModels();
  return useMutation({
    mutationFn: (body: ModelCreate) => unwrap(api.POST("/admin/models", { body })),
    onSuccess: refresh,
  });
}

export function useUpdateModel() {
  const refresh = useRefreshModels();
  return useMutation({
    mutationFn: ({ modelId, changes }: { modelId: string; changes: ModelUpdate }) =>
      unwrap(
        api.PATCH("/admin/models/{model_id}", {
          params: { path: { model_id: modelId } },
          body: changes,
        }),
      ),
    onSuccess: refresh,
  });
}

export function useDeleteModel() {
  const refresh = useRefreshModels();
  return useMutation({
    mutationFn: (modelId: string) =>
      unwrap(api.DELETE("/admin/models/{model_id}", { params: { path: { model_id: modelId } } })),
    onSuccess: refresh,
  });
}

export function useAddBackend() {
  const refresh = useRefreshModels();
  return useMutation({
    mutationFn: ({ modelId, backend }: { modelId: string; backend: BackendCreate }) =>
      unwrap(
        api.POST("/admin/models/{model_id}/backends", {
          params: { path: { model_id: modelId } },
          body: backend,
        }),
      ),
    onSuccess: refresh,
  });
}

export function useUpdateBackend() {
  const refresh = useRefreshModels();
  return useMutation({
    mutationFn: ({ backend, changes }: { backend: Backend; changes: BackendUpdate }) =>
      unwrap(
        api.PATCH("/admin/models/{model_id}/backends/{backend_id}", {
          params: { path: { model_id: backend.model_id, backend_id: backend.id } },
          body: changes,
        }),
      ),
    onSuccess: refresh,
  });
}

export function useRemoveBackend() {
  const refresh = useRefreshModels();
  return useMutation({
    mutationFn: (backend: Backend) =>
      unwrap(
        api.DELETE("/admin/models/{model_id}/backends/{backend_id}", {
          params: { path: { model_id: backend.model_id, backend_id: backend.id } },
        }),
      ),
    onSuccess: refresh,
  });
}
