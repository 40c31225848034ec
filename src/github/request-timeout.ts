/** How long one GitHub request may take before pullgate gives up on it (a retry starts afresh). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * `fetch` with a deadline on every call, for Octokit's `request.fetch`. Octokit has none: a GitHub
 * answer that never comes would hang the handler for good, and with it a write such as completing
 * a check run (the evaluation deadline only bounds reading the facts). The deadline sits at the
 * lowest level, so each retry of Octokit's retry plugin gets a fresh one; a call that runs out
 * fails like a network error (Octokit's 500 RequestError), is retried, and the caller then fails
 * closed. A caller's own signal still applies too.
 */
export function fetchWithDeadline(ms: number, base: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return base(input, { ...init, signal });
  };
}
