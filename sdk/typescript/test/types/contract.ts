// Type-level tests of the contract, checked by `tsc --noEmit` (npm run typecheck): they fail
// to compile when openapi.yaml drifts in a way a TypeScript caller would feel, for example a
// required field turning optional, a field changing type, or a status code disappearing.
// Each `@ts-expect-error` line must be an error; when the contract stops refusing it, tsc
// reports the directive as unused.

import type { Bot, BotCreate, BotEvent, BotUpdate, operations, paths, Problem, StatusEvent } from "../../src/index.js";
import { createBotsClient } from "../../src/index.js";

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
/** The keys of T that must be present. */
type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
type Status<Op extends keyof operations> = keyof operations[Op]["responses"];
type Has<U, K> = K extends U ? true : false;

// A bot as answered: every field is present (nullable ones as null, never missing).
export type BotFieldsRequired = Expect<
  Equal<
    RequiredKeys<Bot>,
    | "id"
    | "owner_id"
    | "name"
    | "description"
    | "model"
    | "temperature"
    | "system_prompt"
    | "is_public"
    | "status"
    | "status_message"
    | "config_version"
    | "created_at"
    | "updated_at"
  >
>;
export type BotStatusIsTheThree = Expect<Equal<Bot["status"], "training" | "active" | "error">>;
export type DescriptionIsNullable = Expect<Equal<Bot["description"], string | null>>;
export type StatusMessageIsNullable = Expect<Equal<Bot["status_message"], string | null>>;
export type TemperatureIsANumber = Expect<Equal<Bot["temperature"], number>>;

// A create needs a name and a model, and nothing else.
export type CreateNeedsNameAndModel = Expect<Equal<RequiredKeys<BotCreate>, "name" | "model">>;
export type UpdateNeedsNothing = Expect<Equal<RequiredKeys<BotUpdate>, never>>;

// Problems: what BotsProblem relies on.
export type ProblemFields = Expect<Equal<RequiredKeys<Problem>, "type" | "title" | "status" | "detail">>;
export type StatusEventFields = Expect<
  Equal<RequiredKeys<StatusEvent>, "id" | "bot_id" | "from_status" | "to_status" | "message" | "created_at">
>;
export type FirstEventHasNoFromStatus = Expect<Has<StatusEvent["from_status"], null>>;

// An event's data has members that depend on its type, such as the `patch` of `bot.updated`:
// a caller reads them, as unknown, and narrows them itself.
export type EventDataHasMembers = Expect<Equal<BotEvent["data"]["patch"], unknown>>;
export function patchOf(event: BotEvent): unknown[] {
  const patch = event.data.patch;
  return event.type === "bot.updated" && Array.isArray(patch) ? patch : [];
}

// The status codes callers handle.
export type CreateAnswers = Expect<Equal<Has<Status<"createBot">, 201 | 409 | 422 | 429 | 503>, true>>;
export type GetAnswers = Expect<Equal<Has<Status<"getBot">, 200 | 304 | 404 | 412>, true>>;
export type UpdateAnswers = Expect<Equal<Has<Status<"updateBot">, 200 | 403 | 404 | 409 | 412 | 422>, true>>;
export type DeleteAnswers = Expect<Equal<Has<Status<"deleteBot">, 200 | 404 | 412 | 428>, true>>;
export type RestoreAnswers = Expect<Equal<Has<Status<"restoreBot">, 200 | 404 | 409>, true>>;
export type DuplicateAnswers = Expect<Equal<Has<Status<"duplicateBot">, 201 | 404 | 409 | 422>, true>>;
export type TrainAnswers = Expect<Equal<Has<Status<"trainBot">, 202 | 404>, true>>;
export type StreamAnswers = Expect<Equal<Has<Status<"streamBotStatus">, 200 | 404 | 429>, true>>;
// Every error answer of a bot operation is a problem document.
export type PreconditionFailedIsAProblem = Expect<
  Equal<operations["updateBot"]["responses"][412]["content"]["application/problem+json"], Problem>
>;
export type ConfirmationRequiredIsAProblem = Expect<
  Equal<operations["deleteBot"]["responses"][428]["content"]["application/problem+json"], Problem>
>;
// The headers a conditional client needs.
export type WritesTakeIfMatch = Expect<Has<keyof NonNullable<operations["updateBot"]["parameters"]["header"]>, "If-Match">>;
export type DeletesTakeIfMatch = Expect<Has<keyof NonNullable<operations["deleteBot"]["parameters"]["header"]>, "If-Match">>;
export type CreatesTakeAKey = Expect<Has<keyof NonNullable<operations["createBot"]["parameters"]["header"]>, "Idempotency-Key">>;
export type StreamResumes = Expect<Has<keyof NonNullable<operations["streamBotStatus"]["parameters"]["header"]>, "Last-Event-ID">>;
export type GetBotPath = Expect<Equal<keyof paths["/api/v1/bots/{bot_id}"] & ("get" | "put" | "delete"), "get" | "put" | "delete">>;

// What the compiler must refuse, through the client a program uses.
declare const bots: ReturnType<typeof createBotsClient>;
export async function refused(): Promise<void> {
  // @ts-expect-error a create without a model
  await bots.create({ name: "No model" });
  // @ts-expect-error a field the contract does not have
  await bots.create({ name: "Extra", model: "gpt-4o-mini", colour: "blue" });
  // @ts-expect-error a temperature as a string
  await bots.create({ name: "Warm", model: "gpt-4o-mini", temperature: "0.7" });
  // @ts-expect-error a status that does not exist, as a list filter
  await bots.api.GET("/api/v1/bots", { params: { query: { status: "sleeping" } } });
  // @ts-expect-error a sort the contract does not allow
  await bots.api.GET("/api/v1/bots", { params: { query: { sort: "model" } } });
  // @ts-expect-error a path the contract does not have
  await bots.api.GET("/api/v1/robots");
  // @ts-expect-error a get without its bot id
  await bots.api.GET("/api/v1/bots/{bot_id}", { params: { path: {} } });
  // @ts-expect-error is_public is no string
  await bots.update("id", () => ({ is_public: "yes" }));

  const { data } = await bots.api.GET("/api/v1/bots/{bot_id}", { params: { path: { bot_id: "x" } } });
  if (data) {
    const name: string = data.name;
    // @ts-expect-error description may be null
    const description: string = data.description;
    void name;
    void description;
  }
}
