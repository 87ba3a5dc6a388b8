// The gateway's ceiling: a bare node:http pass-through proxy in front of the same simulated
// upstream (its URL is argv[2]). It reads nothing, decides nothing and writes nothing durable: the
// request is piped to the upstream over a keep-alive agent and the answer piped back. A gateway
// that meters and charges every request can approach this, never beat it. Prints its URL.
import http from "node:http";
import type { AddressInfo } from "node:net";

const upstream = new URL(process.argv[2] ?? "http://127.0.0.1:1");
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const out = http.request(
    { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(out);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
