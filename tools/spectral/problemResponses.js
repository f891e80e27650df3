// Every 4xx an operation can answer, by this API's conventions, is declared as a response:
// 400, 413, 415 and 422 on every operation (the edge reads and validates every request);
// 401 and 429 on every operation that needs a token; 404 on every operation under a bot or
// a model path parameter; 412 on every operation that takes If-Match, and on every write that
// takes If-None-Match; 403 on every write under a bot but its duplicate (another user's public
// bot can be read and copied, not changed); 428 on the delete of a bot, which needs a
// confirmation. A GET that takes If-None-Match declares its 304 too. Given: a path item.
const methods = ["get", "put", "post", "delete", "patch"];

export default function problemResponses(pathItem, _opts, context) {
  const results = [];
  const rootSecurity = context.document.data.security ?? [];
  const pathParams = pathItem.parameters ?? [];
  const path = context.path[context.path.length - 1];
  for (const method of methods) {
    const op = pathItem[method];
    if (!op) continue;
    const params = [...pathParams, ...(op.parameters ?? [])];
    const secured = (op.security ?? rootSecurity).length > 0;
    const need = new Set(["400", "413", "415", "422"]);
    if (secured) {
      need.add("401");
      need.add("429");
    }
    if (params.some((p) => p.in === "path")) need.add("404");
    const header = (name) => params.some((p) => p.in === "header" && p.name.toLowerCase() === name);
    if (header("if-match") || (method !== "get" && header("if-none-match"))) need.add("412");
    if (method === "get" && header("if-none-match")) need.add("304");
    if (method !== "get" && path.includes("{bot_id}") && !path.endsWith("/duplicate")) need.add("403");
    if (method === "delete" && /\{bot_id\}$/.test(path)) need.add("428");
    for (const status of need) {
      if (!op.responses?.[status]) {
        results.push({
          message: `${method.toUpperCase()} ${path} can answer ${status} but does not declare it`,
          path: [...context.path, method, "responses"],
        });
      }
    }
  }
  return results;
}
