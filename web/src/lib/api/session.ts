/**
 * The signed-in session as this tab knows it: the access token, in memory only.
 *
 * Never in localStorage or a readable cookie, so a script injected into the page cannot carry
 * it off beyond the page's life. A reload restores the session from the refresh cookie, which
 * is HttpOnly and sent only to `/api/auth`.
 */

type Listener = () => void;

export class TokenStore {
  private token: string | null = null;
  private readonly listeners = new Set<Listener>();

  get(): string | null {
    return this.token;
  }

  set(token: string): void {
    this.token = token;
    this.emit();
  }

  clear(): void {
    if (this.token === null) return;
    this.token = null;
    this.emit();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
