import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { Select } from "@/components/ui/select";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { CopyButton } from "@/features/members/copy-button";

import type { CatalogModel } from "./api";
import { API_KEY_VARIABLE, buildSnippets, SNIPPET_LANGUAGES } from "./snippets";

/** Code to call the chosen model from curl, Python or JavaScript, each ready to copy. */
export function SnippetPanel({
  models,
  model,
  baseUrl,
  onModelChange,
}: {
  models: CatalogModel[];
  model: CatalogModel;
  baseUrl: string;
  onModelChange: (id: string) => void;
}) {
  const snippets = buildSnippets({ baseUrl, model: model.id, kind: model.kind });
  return (
    <Card id="snippets">
      <CardHeader>
        <CardTitle>Call {model.id}</CardTitle>
        <CardDescription>
          Any OpenAI client works with the base URL <code className="font-mono">{baseUrl}</code>.
          Put an API key of this organization in <code className="font-mono">{API_KEY_VARIABLE}</code>{" "}
          first.
        </CardDescription>
      </CardHeader>
      <CardContent className="grid grid-cols-[minmax(0,1fr)] gap-4">
        <div className="grid max-w-xs gap-2">
          <Label htmlFor="snippet-model">Model</Label>
          <Select
            id="snippet-model"
            value={model.id}
            onChange={(event) => onModelChange(event.target.value)}
          >
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </Select>
        </div>
        <Tabs defaultValue="curl">
          <TabsList aria-label="Language">
            {SNIPPET_LANGUAGES.map((language) => (
              <TabsTrigger key={language.id} value={language.id}>
                {language.label}
              </TabsTrigger>
            ))}
          </TabsList>
          {SNIPPET_LANGUAGES.map((language) => (
            <TabsContent key={language.id} value={language.id}>
              <div className="rounded-md border bg-muted">
                <div className="flex items-center justify-between gap-2 border-b px-3 py-1.5">
                  <span className="text-xs text-muted-foreground">{language.label}</span>
                  <CopyButton
                    text={snippets[language.id]}
                    label={`${language.label} example`}
                    variant="ghost"
                  />
                </div>
                <pre
                  aria-label={`${language.label} example`}
                  className="overflow-x-auto p-4 font-mono text-xs leading-relaxed"
                >
                  <code>{snippets[language.id]}</code>
                </pre>
              </div>
            </TabsContent>
          ))}
        </Tabs>
      </CardContent>
    </Card>
  );
}
