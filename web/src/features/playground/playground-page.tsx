import { BotIcon, EyeIcon, EyeOffIcon, KeyRoundIcon, SendIcon, SquareIcon, Trash2Icon, UserIcon } from "lucide-react";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useParams } from "react-router-dom";

import { PageHeader } from "@/components/page";
import { Alert, AlertDescription, AlertTitle } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Select } from "@/components/ui/select";
import { Skeleton } from "@/components/ui/skeleton";
import { toast } from "@/components/ui/toast";
import { useOrg } from "@/features/orgs/api";
import { useCatalog, useCreateKey } from "@/features/keys/api";
import { canCreateKeys } from "@/features/keys/permissions";
import { errorMessage } from "@/lib/api";
import { formatNumber } from "@/lib/format";
import { cn } from "@/lib/utils";

import { usePlaygroundKey } from "./key-store";
import { useChat, type Turn } from "./use-chat";

/** How long a key made by the playground's button lives. */
const PLAYGROUND_KEY_MS = 60 * 60 * 1000;

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function Stats({ turn }: { turn: Turn }) {
  const outcome = turn.outcome;
  if (!outcome) return null;
  const items: [string, string, string][] = [];
  if (outcome.usage) {
    items.push(
      ["Prompt", formatNumber(outcome.usage.prompt_tokens), "prompt-tokens"],
      ["Completion", formatNumber(outcome.usage.completion_tokens), "completion-tokens"],
      ["Total", formatNumber(outcome.usage.total_tokens), "total-tokens"],
    );
  }
  if (outcome.firstTokenMs !== null) items.push(["First token", formatMs(outcome.firstTokenMs), "first-token"]);
  items.push(["Latency", formatMs(outcome.totalMs), "latency"]);
  return (
    <dl className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted-foreground" aria-label="Response details">
      {outcome.stopped ? <span className="font-medium text-foreground">Stopped</span> : null}
      {items.map(([label, value, id]) => (
        <div key={id} className="flex gap-1">
          <dt>{label}</dt>
          <dd className="font-medium text-foreground tabular-nums" data-testid={`stat-${id}`}>
            {value}
          </dd>
        </div>
      ))}
      {outcome.usage === null && !outcome.stopped ? <span>No token counts were sent.</span> : null}
    </dl>
  );
}

function Message({ turn, live }: { turn: Turn; live: boolean }) {
  const assistant = turn.role === "assistant";
  const Icon = assistant ? BotIcon : UserIcon;
  return (
    <li className="flex gap-3" data-testid={assistant ? "assistant-message" : "user-message"}>
      <span
        aria-hidden="true"
        className={cn(
          "mt-0.5 flex size-7 shrink-0 items-center justify-center rounded-full",
          assistant ? "bg-primary text-primary-foreground" : "bg-muted",
        )}
      >
        <Icon className="size-4" />
      </span>
      <div className="min-w-0 flex-1">
        <p className="text-xs font-medium text-muted-foreground">
          {assistant ? (turn.model ?? "Assistant") : "You"}
        </p>
        {turn.content || !turn.error ? (
          <p className="text-sm leading-relaxed break-words whitespace-pre-wrap" data-testid={assistant ? "assistant-text" : undefined}>
            {turn.content}
            {live ? <span aria-hidden="true" className="ml-0.5 inline-block h-4 w-1.5 animate-pulse bg-foreground/60 align-text-bottom" /> : null}
          </p>
        ) : null}
        {turn.error ? (
          <Alert variant="destructive" className="mt-2">
            <AlertTitle>{turn.error.title}</AlertTitle>
            <AlertDescription className="text-destructive">{turn.error.message}</AlertDescription>
          </Alert>
        ) : null}
        {assistant ? <Stats turn={turn} /> : null}
      </div>
    </li>
  );
}

function KeyField({ orgId, model }: { orgId: string; model: string }) {
  const [apiKey, setApiKey] = usePlaygroundKey(orgId);
  const [visible, setVisible] = useState(false);
  const org = useOrg(orgId);
  const create = useCreateKey(orgId);
  function createPlaygroundKey() {
    const expiresAt = new Date(Date.now() + PLAYGROUND_KEY_MS).toISOString();
    create.mutate(
      { name: "playground", models: null, expires_at: expiresAt },
      {
        onSuccess: (created) => {
          setApiKey(created.key);
          toast.success("Playground key created", "It expires in an hour; revoke it sooner on the API keys page.");
        },
      },
    );
  }
  const role = org.data ? org.data.role : undefined;
  const mayCreate = role !== undefined && canCreateKeys(role);

  return (
    <div className="grid gap-2">
      <Label htmlFor="playground-key">API key</Label>
      <div className="flex gap-2">
        <Input
          id="playground-key"
          type={visible ? "text" : "password"}
          autoComplete="off"
          spellCheck={false}
          placeholder="ias_…"
          className="font-mono"
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value.trim())}
        />
        <Button
          type="button"
          variant="outline"
          size="icon"
          aria-label={visible ? "Hide the key" : "Show the key"}
          aria-pressed={visible}
          onClick={() => setVisible((v) => !v)}
        >
          {visible ? <EyeOffIcon aria-hidden="true" /> : <EyeIcon aria-hidden="true" />}
        </Button>
      </div>
      <p className="text-xs text-muted-foreground">
        The playground calls <code className="font-mono">/v1</code> like any client, so it needs an
        API key of this organization, with its limits and model list. The key stays in this
        tab&apos;s memory only: never stored, forgotten on sign-out or reload.
      </p>
      {mayCreate ? (
        <Button
          type="button"
          variant="secondary"
          size="sm"
          className="w-fit"
          disabled={create.isPending || model === ""}
          onClick={createPlaygroundKey}
        >
          <KeyRoundIcon aria-hidden="true" />
          {create.isPending ? "Creating…" : "Create a playground key"}
        </Button>
      ) : role === "viewer" ? (
        <p className="text-xs text-muted-foreground">Viewers cannot create keys: paste one a member gave you.</p>
      ) : null}
      {create.isError ? <p className="text-xs text-destructive">{errorMessage(create.error)}</p> : null}
    </div>
  );
}

/** `/orgs/:orgId/playground`: chat with a model through `/v1`, streamed, with an API key. */
export function PlaygroundPage() {
  const { orgId = "" } = useParams();
  const catalog = useCatalog();
  const chatModels = (catalog.data ?? []).filter((m) => m.kind === "chat");
  const [model, setModel] = useState("");
  const [apiKey] = usePlaygroundKey(orgId);
  const [draft, setDraft] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const chat = useChat(`${window.location.origin}/v1/chat/completions`);
  const transcriptEnd = useRef<HTMLLIElement>(null);

  const firstModel = chatModels[0]?.id;
  useEffect(() => {
    if (model === "" && firstModel) setModel(firstModel);
  }, [model, firstModel]);

  const lastContent = chat.turns.at(-1)?.content;
  useEffect(() => {
    transcriptEnd.current?.scrollIntoView({ block: "nearest" });
  }, [chat.turns.length, lastContent]);

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if (chat.streaming || text === "") return;
    if (model === "") return setProblem("Choose a model first.");
    if (apiKey === "") return setProblem("Paste an API key, or create a playground key, first.");
    setProblem(null);
    setDraft("");
    void chat.send(text, { apiKey, model });
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  }

  const last = chat.turns.at(-1);
  return (
    <div className="grid max-w-6xl gap-6">
      <PageHeader
        className="mb-0"
        title="Playground"
        description="Try the models with an API key, streamed as they answer."
      />
      <div className="grid items-start gap-6 lg:grid-cols-[20rem_1fr]">
        <Card>
          <CardHeader>
            <CardTitle>Settings</CardTitle>
            <CardDescription>Requests count against the key&apos;s limits and show up in Usage.</CardDescription>
          </CardHeader>
          <CardContent className="grid gap-5">
            <div className="grid gap-2">
              <Label htmlFor="playground-model">Model</Label>
              {catalog.isPending ? (
                <Skeleton className="h-9" />
              ) : catalog.isError ? (
                <p className="text-sm text-destructive">Could not load the models: {errorMessage(catalog.error)}</p>
              ) : chatModels.length === 0 ? (
                <p className="text-sm text-muted-foreground">No chat model is available yet.</p>
              ) : (
                <Select id="playground-model" value={model} onChange={(event) => setModel(event.target.value)}>
                  {chatModels.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.id}
                    </option>
                  ))}
                </Select>
              )}
            </div>
            <KeyField orgId={orgId} model={model} />
          </CardContent>
        </Card>
        <Card className="flex min-h-[28rem] flex-col">
          <CardHeader className="flex-row items-center justify-between">
            <CardTitle>Chat</CardTitle>
            {chat.turns.length > 0 ? (
              <Button variant="ghost" size="sm" onClick={chat.clear}>
                <Trash2Icon aria-hidden="true" />
                Clear
              </Button>
            ) : null}
          </CardHeader>
          <CardContent className="flex flex-1 flex-col gap-4">
            {chat.turns.length === 0 ? (
              <div className="flex flex-1 flex-col items-center justify-center gap-1 py-10 text-center text-sm text-muted-foreground">
                <BotIcon aria-hidden="true" className="mb-2 size-8" />
                <p className="font-medium text-foreground">Ask something</p>
                <p>
                  Answers stream in token by token. Need a key?{" "}
                  <Link className="underline underline-offset-4" to={`/orgs/${orgId}/keys`}>
                    API keys
                  </Link>
                </p>
              </div>
            ) : (
              <ol
                aria-label="Conversation"
                aria-busy={chat.streaming}
                className="grid max-h-[32rem] flex-1 content-start gap-5 overflow-y-auto pr-1"
              >
                {chat.turns.map((turn) => (
                  <Message key={turn.id} turn={turn} live={chat.streaming && turn === last} />
                ))}
                <li ref={transcriptEnd} aria-hidden="true" />
              </ol>
            )}
            <form className="grid gap-2" onSubmit={submit}>
              <Label htmlFor="playground-message" className="sr-only">
                Message
              </Label>
              <textarea
                id="playground-message"
                rows={3}
                placeholder="Write a message. Enter sends, Shift+Enter starts a new line."
                value={draft}
                onChange={(event) => setDraft(event.target.value)}
                onKeyDown={onKeyDown}
                className="w-full resize-y rounded-md border border-input bg-background px-3 py-2 text-base shadow-xs outline-none placeholder:text-muted-foreground focus-visible:ring-2 focus-visible:ring-ring sm:text-sm"
              />
              {problem ? (
                <p role="alert" className="text-sm text-destructive">
                  {problem}
                </p>
              ) : null}
              <div className="flex justify-end gap-2">
                {chat.streaming ? (
                  <Button type="button" variant="outline" onClick={chat.stop}>
                    <SquareIcon aria-hidden="true" />
                    Stop
                  </Button>
                ) : (
                  <Button type="submit" disabled={draft.trim() === ""}>
                    <SendIcon aria-hidden="true" />
                    Send
                  </Button>
                )}
              </div>
            </form>
          </CardContent>
        </Card>
      </div>
    </div>
  );
}
