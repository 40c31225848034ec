/**
 * One app replica in its own process, so a test can SIGKILL it mid-evaluation (a real crash: no
 * finally blocks, no timers, sockets cut). Config comes as JSON in PULLGATE_REPLICA_CONFIG; the
 * first stdout line is `{"webhookUrl": ...}` once it listens.
 */
import { startServer, type ServerConfig } from "../../../src/server.js";

const config = JSON.parse(process.env.PULLGATE_REPLICA_CONFIG ?? "{}") as ServerConfig;
const server = await startServer(config);
process.stdout.write(`${JSON.stringify({ webhookUrl: server.webhookUrl })}\n`);
