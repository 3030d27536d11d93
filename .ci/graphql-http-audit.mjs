// The GraphQL-over-HTTP audit (npm graphql-http's auditServer) against a running server:
// every MUST, SHOULD and MAY check must pass. Usage: node graphql-http-audit.mjs URL
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
let failed = 0;
for (const result of results) {
  const line = `${result.status.padEnd(5)} ${result.id} ${result.name}`;
  if (result.status === "ok") {
    console.log(line);
  } else {
    failed += 1;
    console.log(`${line}\n      ${result.reason}`);
  }
}
console.log(`${results.length - failed} of ${results.length} checks passed`);
process.exit(failed === 0 ? 0 : 1);
