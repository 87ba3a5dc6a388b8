// Sending one webhook attempt, as a port: the HTTP adapter (src/adapters/webhooks/http-sender.ts)
// in production, anything that answers like a receiver in tests. An attempt never throws: no
// answer (timeout, refused connection, blocked address) is a result with status null.

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

export interface WebhookResponse {
  /** The receiver's HTTP status; null when there was no answer. */
  readonly status: number | null;
  /** Why the attempt did not succeed (a short, loggable text); null on 2xx. */
  readonly error: string | null;
}

export interface WebhookSender {
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
