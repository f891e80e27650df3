// Every write of a resource that has an ETag (PUT, PATCH and DELETE) declares If-Match, on
// itself or on its path, so that clients can write only what they have seen. Given: a path
// item.
export default function writesDeclareIfMatch(pathItem, _opts, context) {
  const results = [];
  const pathParams = pathItem.parameters ?? [];
  for (const method of ["put", "patch", "delete"]) {
    const op = pathItem[method];
    if (!op) continue;
    const params = [...pathParams, ...(op.parameters ?? [])];
    if (!params.some((p) => p.in === "header" && p.name.toLowerCase() === "if-match")) {
      results.push({
        message: `${method.toUpperCase()} ${context.path[context.path.length - 1]} declares no If-Match header`,
        path: [...context.path, method],
      });
    }
  }
  return results;
}
