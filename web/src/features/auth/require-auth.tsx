import { Navigate, Outlet, useLocation } from "react-router-dom";

import { FullPageSpinner } from "@/components/full-page-spinner";

import { useAuth } from "./auth-context";

/** Renders its routes for a signed-in person; sends anyone else to sign in, then back here. */
export function RequireAuth() {
  const { status } = useAuth();
  const location = useLocation();
  if (status === "restoring") return <FullPageSpinner label="Restoring your session" />;
  if (status === "signed-out") {
    const next = location.pathname + location.search;
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <Outlet />;
}

/** A path inside the app to go to after signing in; anything else is ignored. */
export function safeNext(next: string | null): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/login")) {
    return null;
  }
  return next;
}
