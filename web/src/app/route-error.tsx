import { isRouteErrorResponse, useRouteError } from "react-router-dom";

import { CrashNotice } from "@/components/error-boundary";

/** The router's error element: a render or loader error of any route, shown readably. */
export function RouteError() {
  const error = useRouteError();
  if (isRouteErrorResponse(error)) {
    return <CrashNotice error={new Error(`${error.status} ${error.statusText}`)} />;
  }
  return <CrashNotice error={error} />;
}
