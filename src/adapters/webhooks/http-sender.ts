// Webhook attempts over node:http(s). The SSRF guard sits in the connection itself: unless
// private networks are allowed, every address the host name resolves to is checked (core's
// isPrivateAddress) inside the socket's own DNS lookup, so a name cannot pass a check and then
// resolve elsewhere (DNS rebinding); literal IP hosts are checked before connecting. Redirects are
// never followed (a 3xx is a failed attempt), and only the first bytes of an answer are kept.

import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isPrivateAddress } from "../../core/webhooks.js";
import type { WebhookRequest, WebhookResponse, WebhookSender } from "../../ports/webhook-sender.js";

/** How much of a receiver's answer is kept for the delivery log. */
const KEEP_BYTES = 256;

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, "", 0);
    const blocked = addresses.find((a) => isPrivateAddress(a.address));
    if (blocked) return callback(Object.assign(new Error(`${hostname} resolves to a private address (${blocked.address})`), { code: "EBLOCKED" }), "", 0);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "", 0);
    if (options.all) return callback(null, addresses);
    return callback(null, first.address, first.family);
  });
};

export class HttpWebhookSender implements WebhookSender {
  constructor(private readonly options: { readonly allowPrivateNetworks: boolean; readonly userAgent: string }) {}

  send(req: WebhookRequest): Promise<WebhookResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return Promise.resolve({ status: null, error: "invalid url" });
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!this.options.allowPrivateNetworks && isIP(host) !== 0 && isPrivateAddress(host)) {
      return Promise.resolve({ status: null, error: `blocked: ${host} is a private address` });
    }
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<WebhookResponse>((resolve) => {
      let settled = false;
      const done = (r: WebhookResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const r = send(
        url,
        {
          method: "POST",
          headers: { ...req.headers, "content-type": "application/json", "content-length": String(Buffer.byteLength(req.body)), "user-agent": this.options.userAgent },
          ...(this.options.allowPrivateNetworks ? {} : { lookup: guardedLookup }),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on("data", (c: Buffer) => {
            if (kept < KEEP_BYTES) chunks.push(c.subarray(0, KEEP_BYTES - kept));
            kept += c.length;
          });
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const ok = status >= 200 && status < 300;
            const text = Buffer.concat(chunks).toString("utf8").replace(/\s+/g, " ").trim();
            done({ status, error: ok ? null : `HTTP ${status}${text ? `: ${text}` : ""}` });
          });
          res.on("error", (e) => done({ status: res.statusCode ?? null, error: e.message }));
        },
      );
      const timer = setTimeout(() => {
        r.destroy(new Error(`no answer within ${req.timeoutMs} ms`));
      }, req.timeoutMs);
      r.on("error", (e) => done({ status: null, error: e.message }));
      r.end(req.body);
    });
  }
}
