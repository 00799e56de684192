import { useQueryClient } from "@tanstack/react-query";
import { createContext, use, useCallback, useEffect, useMemo, useState, type ReactNode } from "react";

import { api, unwrap } from "@/lib/api";

/** Where the session stands: being restored from the cookie at start, or known. */
export type AuthStatus = "restoring" | "signed-in" | "signed-out";

type AuthContextValue = {
  status: AuthStatus;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
};

const AuthContext = createContext<AuthContextValue | null>(null);

/**
 * Holds the session for the whole app. At start it tries `POST /api/auth/refresh`: a person who
 * signed in before (and did not sign out) is back in without typing anything.
 */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<AuthStatus>(() =>
    api.tokens.get() === null ? "restoring" : "signed-in",
  );

  const restoring = status === "restoring";
  useEffect(() => {
    if (!restoring) return;
    let active = true;
    void api.refresh().then((outcome) => {
      if (active) setStatus(outcome === "renewed" ? "signed-in" : "signed-out");
    });
    return () => {
      active = false;
    };
  }, [restoring]);

  useEffect(() => {
    api.setSessionEndedHandler(() => {
      queryClient.clear();
      setStatus("signed-out");
    });
  }, [queryClient]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      const tokens = await unwrap(api.POST("/auth/login", { body: { email, password } }));
      queryClient.clear();
      api.tokens.set(tokens.access_token);
      setStatus("signed-in");
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await api.POST("/auth/logout");
    } catch {
      // Signed out here all the same; the server ends the session when its token expires.
    }
    api.tokens.clear();
    queryClient.clear();
    setStatus("signed-out");
  }, [queryClient]);

  const value = useMemo(() => ({ status, signIn, signOut }), [status, signIn, signOut]);
  return <AuthContext value={value}>{children}</AuthContext>;
}

export function useAuth(): AuthContextValue {
  const value = use(AuthContext);
  if (value === null) throw new Error("useAuth is used outside <AuthProvider>");
  return value;
}
