/** Checks an invitee's email before it is sent, as the API will (`normalize_email`). */

const MAX_EMAIL_LENGTH = 320;

/** Why `raw` is not an email address, or null when it is one. */
export function emailProblem(raw: string): string | null {
  const email = raw.trim();
  if (email === "") return "Enter the email address of the person to invite.";
  if (email.length > MAX_EMAIL_LENGTH) return `An email address has at most ${MAX_EMAIL_LENGTH} characters.`;
  if (/\s/.test(email)) return "An email address has no spaces.";
  const at = email.indexOf("@");
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (at < 0 || local === "" || domain === "" || domain.includes("@")) {
    return "Enter an email address like name@example.com.";
  }
  if (domain.startsWith(".") || domain.endsWith(".") || domain.includes("..")) {
    return "The part after @ is not a valid domain.";
  }
  return null;
}

/**
 * The link to send to the invitee, on the address this portal is reached at: the API's `url`
 * carries the configured public URL, which may differ from it (another port, a proxy).
 */
export function inviteLink(token: string, origin: string): string {
  return `${origin.replace(/\/+$/, "")}/invites/${encodeURIComponent(token)}`;
}
