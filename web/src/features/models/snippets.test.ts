import { describe, expect, it } from "vitest";

import {
  baseUrlFor,
  buildSnippets,
  curlSnippet,
  javascriptSnippet,
  pythonSnippet,
  shellQuote,
  stringLiteral,
} from "./snippets";

const BASE = "https://ias.example.com/v1";

/** Reads back one POSIX shell word made of bare text, '…' runs and \x escapes. */
function unshell(word: string): string {
  let out = "";
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    if (ch === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated quote in ${word}`);
      out += word.slice(i + 1, end);
      i = end;
    } else if (ch === "\\") {
      out += word[++i] ?? "";
    } else {
      out += ch;
    }
  }
  return out;
}

/** The word after `-d ` in a curl snippet, decoded as the shell would. */
function curlBody(snippet: string): unknown {
  const line = snippet.split("\n").find((l) => l.trimStart().startsWith("-d "));
  if (!line) throw new Error("no -d line");
  return JSON.parse(unshell(line.trimStart().slice(3)));
}

describe("baseUrlFor", () => {
  it("is the page's origin with /v1, without doubled slashes", () => {
    expect(baseUrlFor("http://127.0.0.1:8000")).toBe("http://127.0.0.1:8000/v1");
    expect(baseUrlFor("https://ias.example.com/")).toBe(BASE);
  });
});

describe("curl", () => {
  it("calls the chat endpoint of the base URL with the key from the environment", () => {
    const snippet = curlSnippet({ baseUrl: BASE, model: "demo-chat", kind: "chat" });
    expect(snippet.split("\n")[0]).toBe(`curl ${BASE}/chat/completions \\`);
    expect(snippet).toContain('-H "Authorization: Bearer $IAS_API_KEY"');
    expect(curlBody(snippet)).toEqual({
      model: "demo-chat",
      messages: [{ role: "user", content: "Say hello in one sentence." }],
    });
  });

  it("picks the endpoint of the model's kind", () => {
    expect(curlSnippet({ baseUrl: BASE, model: "e", kind: "embedding" })).toContain(`${BASE}/embeddings`);
    const completion = curlSnippet({ baseUrl: BASE, model: "c", kind: "completion" });
    expect(completion).toContain(`${BASE}/completions`);
    expect(curlBody(completion)).toMatchObject({ model: "c", prompt: "Once upon a time" });
  });

  it("keeps quotes and shell characters in the model name inert", () => {
    const model = `it's "odd" $(rm -rf ~) \\ \`x\``;
    const snippet = curlSnippet({ baseUrl: BASE, model, kind: "chat" });
    expect(curlBody(snippet)).toMatchObject({ model });
  });

  it("quotes a base URL only when the shell needs it", () => {
    expect(shellQuote("http://127.0.0.1:8000/v1/chat/completions")).toBe(
      "http://127.0.0.1:8000/v1/chat/completions",
    );
    expect(shellQuote("http://h/v1?a=1&b=2")).toBe("'http://h/v1?a=1&b=2'");
    expect(unshell(shellQuote("a'b"))).toBe("a'b");
  });
});

describe("Python", () => {
  it("points the openai client at the base URL and calls the model", () => {
    const snippet = pythonSnippet({ baseUrl: BASE, model: "demo-chat", kind: "chat" });
    expect(snippet).toContain("from openai import OpenAI");
    expect(snippet).toContain(`base_url="${BASE}",`);
    expect(snippet).toContain('api_key=os.environ["IAS_API_KEY"],');
    expect(snippet).toContain("response = client.chat.completions.create(");
    expect(snippet).toContain('    model="demo-chat",');
    expect(snippet).toContain('messages=[{"role": "user", "content": "Say hello in one sentence."}],');
  });

  it("uses the embeddings call for an embedding model", () => {
    const snippet = pythonSnippet({ baseUrl: BASE, model: "demo-embed", kind: "embedding" });
    expect(snippet).toContain("client.embeddings.create(");
    expect(snippet).toContain("print(len(response.data[0].embedding))");
  });

  it("escapes quotes and backslashes in the model name", () => {
    const snippet = pythonSnippet({ baseUrl: BASE, model: 'a"b\\c\nd', kind: "completion" });
    expect(snippet).toContain('    model="a\\"b\\\\c\\nd",');
  });
});

describe("JavaScript", () => {
  it("points the openai client at the base URL and calls the model", () => {
    const snippet = javascriptSnippet({ baseUrl: BASE, model: "demo-chat", kind: "chat" });
    expect(snippet).toContain('import OpenAI from "openai";');
    expect(snippet).toContain(`baseURL: "${BASE}",`);
    expect(snippet).toContain("apiKey: process.env.IAS_API_KEY,");
    expect(snippet).toContain('  model: "demo-chat",');
    expect(snippet).toContain('messages: [{ role: "user", content: "Say hello in one sentence." }],');
  });

  it("writes string literals that read back as the same text", () => {
    for (const value of ['a"b', "c\\d", "e\nf", "g\u2028h", "</script>", "`${x}`"]) {
      expect(new Function(`return ${stringLiteral(value)};`)()).toBe(value);
    }
  });
});

describe("buildSnippets", () => {
  it("gives every language, each with the base URL and the model", () => {
    const snippets = buildSnippets({ baseUrl: BASE, model: "demo-embed", kind: "embedding" });
    for (const text of Object.values(snippets)) {
      expect(text).toContain(BASE);
      expect(text).toContain("demo-embed");
      expect(text).not.toMatch(/sk-|Bearer [A-Za-z0-9]{8}/);
    }
  });
});
