import type { RouteObject } from "react-router-dom";

import { AppLayout } from "@/components/layout/app-layout";
import { ADMIN_ROUTE } from "@/features/admin/routes";
import { AuditPage } from "@/features/audit/audit-page";
import { LoginPage } from "@/features/auth/login-page";
import { RequireAuth } from "@/features/auth/require-auth";
import { HomePage } from "@/features/home/home-page";
import { InvitePage } from "@/features/invites/invite-page";
import { KeysPage } from "@/features/keys/keys-page";
import { MembersPage } from "@/features/members/members-page";
import { ModelsPage } from "@/features/models/models-page";
import { OrgHomePage } from "@/features/orgs/org-home-page";
import { PlaygroundPage } from "@/features/playground/playground-page";
import { SettingsPage } from "@/features/settings/settings-page";
import { UsagePage } from "@/features/usage/usage-page";

import { NotFoundPage } from "./not-found";
import { RouteError } from "./route-error";

/**
 * The pages of an organization, below `/orgs/:orgId` (`{ path: "keys", element: <KeysPage /> }`).
 * Add the section to `ORG_SECTIONS` in `sections.ts` at the same time, so it is linked.
 */
export const ORG_ROUTES: RouteObject[] = [
  { path: "usage", element: <UsagePage /> },
  { path: "keys", element: <KeysPage /> },
  { path: "playground", element: <PlaygroundPage /> },
  { path: "members", element: <MembersPage /> },
  { path: "models", element: <ModelsPage /> },
  { path: "settings", element: <SettingsPage /> },
  { path: "audit", element: <AuditPage /> },
];

export const routes: RouteObject[] = [
  {
    errorElement: <RouteError />,
    children: [
      { path: "/login", element: <LoginPage /> },
      // The API's invite links use `/invites/…`; both spellings open the same page.
      { path: "/invite/:token", element: <InvitePage /> },
      { path: "/invites/:token", element: <InvitePage /> },
      {
        element: <RequireAuth />,
        children: [
          {
            element: <AppLayout />,
            children: [
              { index: true, element: <HomePage /> },
              {
                path: "orgs/:orgId",
                children: [{ index: true, element: <OrgHomePage /> }, ...ORG_ROUTES],
              },
              ADMIN_ROUTE,
              { path: "*", element: <NotFoundPage /> },
            ],
          },
        ],
      },
    ],
  },
];
