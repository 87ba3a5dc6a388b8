// The simulated upstream alone, in its own process, for the gateway benchmark. Prints its URL.
import { startSimulatedUpstream } from "../src/adapters/upstream/standalone-upstream.js";

const server = await startSimulatedUpstream({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening on ${server.url}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
