/**
 * Ready-to-paste examples of calling a model through the platform's OpenAI-compatible API.
 *
 * The API key is never in them: each reads `IAS_API_KEY` from the environment. Values are
 * escaped for the language they land in, though model names are already limited to letters,
 * digits and `. _ : / -` by the registry.
 */
import type { Schemas } from "@/lib/api";

export type ModelKind = Schemas["ModelKind"];
export type SnippetLanguage = "curl" | "python" | "javascript";

export const SNIPPET_LANGUAGES: readonly { id: SnippetLanguage; label: string }[] = [
  { id: "curl", label: "curl" },
  { id: "python", label: "Python" },
  { id: "javascript", label: "JavaScript" },
];

export const API_KEY_VARIABLE = "IAS_API_KEY";

/** The `/v1` base URL of the platform this page was loaded from. */
export function baseUrlFor(origin: string): string {
  return `${origin.replace(/\/+$/, "")}/v1`;
}

/**
 * A string literal for Python or JavaScript. JSON's string syntax is a subset of both: quotes,
 * backslashes and control characters come out escaped in a form each language reads back.
 */
export function stringLiteral(value: string): string {
  return JSON.stringify(value);
}

/** One argument for a POSIX shell: bare when nothing in it is special, else single-quoted. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

type Call = {
  /** The path below `/v1`. */
  path: string;
  /** The SDK method, below `client.`. */
  method: string;
  /** The request's fields beside `model`, as JSON values. */
  fields: [string, unknown][];
  /** How Python and JavaScript print the answer. */
  pythonResult: string;
  javascriptResult: string;
};

const CALLS: Record<ModelKind, Call> = {
  chat: {
    path: "/chat/completions",
    method: "chat.completions.create",
    fields: [["messages", [{ role: "user", content: "Say hello in one sentence." }]]],
    pythonResult: "response.choices[0].message.content",
    javascriptResult: "response.choices[0].message.content",
  },
  completion: {
    path: "/completions",
    method: "completions.create",
    fields: [
      ["prompt", "Once upon a time"],
      ["max_tokens", 32],
    ],
    pythonResult: "response.choices[0].text",
    javascriptResult: "response.choices[0].text",
  },
  embedding: {
    path: "/embeddings",
    method: "embeddings.create",
    fields: [["input", "The quick brown fox jumps over the lazy dog."]],
    pythonResult: "len(response.data[0].embedding)",
    javascriptResult: "response.data[0].embedding.length",
  },
};

/** A JSON value as a Python expression (`true` → `True`, objects → dicts). */
function pythonValue(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return stringLiteral(value);
  if (Array.isArray(value)) return `[${value.map(pythonValue).join(", ")}]`;
  if (typeof value === "object") {
    const items = Object.entries(value).map(([k, v]) => `${stringLiteral(k)}: ${pythonValue(v)}`);
    return `{${items.join(", ")}}`;
  }
  return String(value);
}

/** A JSON value as a JavaScript expression, with unquoted keys where they are identifiers. */
function javascriptValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return stringLiteral(value);
  if (Array.isArray(value)) return `[${value.map(javascriptValue).join(", ")}]`;
  if (typeof value === "object") {
    const items = Object.entries(value).map(
      ([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : stringLiteral(k)}: ${javascriptValue(v)}`,
    );
    return `{ ${items.join(", ")} }`;
  }
  return String(value);
}

export type SnippetInput = { baseUrl: string; model: string; kind: ModelKind };

export function curlSnippet({ baseUrl, model, kind }: SnippetInput): string {
  const call = CALLS[kind];
  const body = JSON.stringify(Object.fromEntries([["model", model], ...call.fields]));
  return [
    `curl ${shellQuote(`${baseUrl}${call.path}`)} \\`,
    `  -H "Authorization: Bearer $${API_KEY_VARIABLE}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d ${shellQuote(body)}`,
  ].join("\n");
}

export function pythonSnippet({ baseUrl, model, kind }: SnippetInput): string {
  const call = CALLS[kind];
  const args = [["model", model] as [string, unknown], ...call.fields]
    .map(([name, value]) => `    ${name}=${pythonValue(value)},`)
    .join("\n");
  return [
    "import os",
    "",
    "from openai import OpenAI",
    "",
    "client = OpenAI(",
    `    base_url=${stringLiteral(baseUrl)},`,
    `    api_key=os.environ[${stringLiteral(API_KEY_VARIABLE)}],`,
    ")",
    "",
    `response = client.${call.method}(`,
    args,
    ")",
    `print(${call.pythonResult})`,
  ].join("\n");
}

export function javascriptSnippet({ baseUrl, model, kind }: SnippetInput): string {
  const call = CALLS[kind];
  const args = [["model", model] as [string, unknown], ...call.fields]
    .map(([name, value]) => `  ${name}: ${javascriptValue(value)},`)
    .join("\n");
  return [
    'import OpenAI from "openai";',
    "",
    "const client = new OpenAI({",
    `  baseURL: ${stringLiteral(baseUrl)},`,
    `  apiKey: process.env.${API_KEY_VARIABLE},`,
    "});",
    "",
    `const response = await client.${call.method}({`,
    args,
    "});",
    `console.log(${call.javascriptResult});`,
  ].join("\n");
}

export function buildSnippets(input: SnippetInput): Record<SnippetLanguage, string> {
  return {
    curl: curlSnippet(input),
    python: pythonSnippet(input),
    javascript: javascriptSnippet(input),
  };
}
