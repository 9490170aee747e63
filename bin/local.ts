/** `npm start`: serves the gateway's API on http://127.0.0.1:$PORT (default 3000). */
import { localOptionsFromEnv, startLocalServer } from '../lib/local/server.js';

try {
  const options = localOptionsFromEnv(process.env);
  const server = await startLocalServer(options);
  const storage =
    options.dynamodbEndpoint ?? (options.dataDir === ':memory:' ? 'memory (nothing kept)' : options.dataDir);
  console.log(
    server.backend
      ? `${server.issuer}/mcp fronts your MCP server at ${server.backend}`
      : `${server.issuer}/mcp fronts the sample MCP server (set MCP_BACKEND_URL to put yours behind it)`,
  );
  // Last: the line that says where it listens is the one scripts wait for.
  console.log(`mcp-oauth-gateway listening on ${server.url} (issuer ${server.issuer}; data in ${storage})`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  console.error(`mcp-oauth-gateway could not start: ${(error as Error).message}`);
  process.exit(1);
}
