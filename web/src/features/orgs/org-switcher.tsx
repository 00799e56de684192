import { Building2Icon, ChevronsUpDownIcon, PlusIcon } from "lucide-react";
import { useState } from "react";
import { useNavigate } from "react-router-dom";

import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuRadioGroup,
  DropdownMenuRadioItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/dropdown-menu";
import { Skeleton } from "@/components/ui/skeleton";
import { useMe } from "@/features/auth/use-me";

import { CreateOrgDialog } from "./create-org-dialog";
import { ROLE_LABELS } from "./roles";

/** Lists your organizations (from `GET /api/me`), switches between them, creates one. */
export function OrgSwitcher({ currentOrgId }: { currentOrgId: string | undefined }) {
  const me = useMe();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);

  if (me.isPending) return <Skeleton className="h-9 w-44" />;
  const memberships = me.data?.memberships ?? [];
  const current = memberships.find((m) => m.org_id === currentOrgId);
  const label = current?.org_name ?? (currentOrgId ? "Organization" : "Organizations");

  return (
    <>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <Button
            variant="outline"
            className="max-w-[14rem] justify-between sm:max-w-xs"
            aria-label={`Organization: ${label}. Switch organization`}
          >
            <Building2Icon aria-hidden="true" />
            <span className="truncate">{label}</span>
            <ChevronsUpDownIcon aria-hidden="true" className="opacity-60" />
          </Button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="start" className="w-72">
          <DropdownMenuLabel>Your organizations</DropdownMenuLabel>
          {me.isError ? (
            <p className="px-2 py-1.5 text-sm text-destructive">Could not load them.</p>
          ) : memberships.length === 0 ? (
            <p className="px-2 py-1.5 text-sm text-muted-foreground">None yet.</p>
          ) : (
            <DropdownMenuRadioGroup
              value={currentOrgId ?? ""}
              onValueChange={(orgId) => navigate(`/orgs/${orgId}`)}
            >
              {memberships.map((m) => (
                <DropdownMenuRadioItem key={m.org_id} value={m.org_id}>
                  <span className="min-w-0 flex-1 truncate">{m.org_name}</span>
                  <span className="text-xs text-muted-foreground">{ROLE_LABELS[m.role]}</span>
                </DropdownMenuRadioItem>
              ))}
            </DropdownMenuRadioGroup>
          )}
          <DropdownMenuSeparator />
          <DropdownMenuItem onSelect={() => setCreating(true)}>
            <PlusIcon aria-hidden="true" />
            Create organization
          </DropdownMenuItem>
        </DropdownMenuContent>
      </DropdownMenu>
      <CreateOrgDialog open={creating} onOpenChange={setCreating} />
    </>
  );
}
