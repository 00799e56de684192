import { Navigate, type RouteObject } from "react-router-dom";

import { NotFoundPage } from "@/app/not-found";

import { AdminLayout } from "./admin-layout";
import { AuditPage } from "./audit-page";
import { ModelsPage } from "./models-page";
import { OrgsPage } from "./orgs-page";
import { UsagePage } from "./usage-page";
import { UsersPage } from "./users-page";

/** `/admin/…`, inside the signed-in layout; the layout turns away anyone but super admins. */
export const ADMIN_ROUTE: RouteObject = {
  path: "admin",
  element: <AdminLayout />,
  children: [
    { index: true, element: <Navigate to="orgs" replace /> },
    { path: "orgs", element: <OrgsPage /> },
    { path: "users", element: <UsersPage /> },
    { path: "models", element: <ModelsPage /> },
    { path: "usage", element: <UsagePage /> },
    { path: "audit", element: <AuditPage /> },
    { path: "*", element: <NotFoundPage /> },
  ],
};
