import { CodeIcon } from "lucide-react";
import { useState } from "react";

import { ErrorState } from "@/components/error-state";
import { PageHeader } from "@/components/page";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/skeleton";
import {
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
} from "@/components/ui/table";
import { cn } from "@/lib/utils";

import { useCatalog, type CatalogModel } from "./api";
import { formatContextLength, formatPricePerMtok } from "./format";
import { SnippetPanel } from "./snippet-panel";
import { baseUrlFor, type ModelKind } from "./snippets";

const KIND_LABELS: Record<ModelKind, string> = {
  chat: "Chat",
  completion: "Completion",
  embedding: "Embedding",
};

function Loading() {
  return (
    <div className="grid gap-4" aria-busy="true">
      <Skeleton className="h-8 w-40" />
      <Skeleton className="h-40" />
      <Skeleton className="h-64" />
    </div>
  );
}

function CatalogTable({
  models,
  selected,
  onSelect,
}: {
  models: CatalogModel[];
  selected: string;
  onSelect: (id: string) => void;
}) {
  return (
    <Table>
      <TableHeader>
        <TableRow>
          <TableHead>Model</TableHead>
          <TableHead>Kind</TableHead>
          <TableHead className="text-right">Context</TableHead>
          <TableHead className="text-right">Input</TableHead>
          <TableHead className="text-right">Output</TableHead>
          <TableHead className="text-right">Cached input</TableHead>
          <TableHead>
            <span className="sr-only">Code</span>
          </TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {models.map((model) => (
          <TableRow key={model.id} className={cn(model.id === selected && "bg-muted/50")}>
            <TableCell className="font-mono font-medium whitespace-nowrap">{model.id}</TableCell>
            <TableCell>
              <Badge variant="secondary">{KIND_LABELS[model.kind]}</Badge>
            </TableCell>
            <TableCell className="text-right tabular-nums">
              {formatContextLength(model.context_length)}
            </TableCell>
            <TableCell className="text-right tabular-nums">
              {formatPricePerMtok(model.pricing.input_per_mtok_usd)}
            </TableCell>
            <TableCell className="text-right tabular-nums">
              {model.kind === "embedding" ? "—" : formatPricePerMtok(model.pricing.output_per_mtok_usd)}
            </TableCell>
            <TableCell className="text-right tabular-nums">
              {formatPricePerMtok(model.pricing.cached_input_per_mtok_usd)}
            </TableCell>
            <TableCell className="text-right">
              <Button
                variant={model.id === selected ? "secondary" : "ghost"}
                size="sm"
                aria-pressed={model.id === selected}
                aria-label={`Show code for ${model.id}`}
                onClick={() => {
                  onSelect(model.id);
                  document.getElementById("snippets")?.scrollIntoView({ block: "nearest" });
                }}
              >
                <CodeIcon aria-hidden="true" />
                Code
              </Button>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** `/orgs/:orgId/models`: what can be called, what it costs, and code to call it. */
export function ModelsPage() {
  const catalog = useCatalog();
  const [chosen, setChosen] = useState<string | null>(null);
  const baseUrl = baseUrlFor(window.location.origin);

  if (catalog.isPending) return <Loading />;
  if (catalog.isError) {
    return (
      <ErrorState
        title="Could not load the models"
        error={catalog.error}
        onRetry={() => void catalog.refetch()}
      />
    );
  }

  const models = catalog.data.data;
  const model = models.find((m) => m.id === chosen) ?? models[0];
  return (
    <div className="grid max-w-5xl grid-cols-[minmax(0,1fr)] gap-6">
      <PageHeader
        className="mb-0"
        title="Models"
        description="The models you can call through the API. Prices are in USD per million tokens."
      />
      {model ? (
        <>
          <Card>
            <CardContent className="pt-5">
              <CatalogTable models={models} selected={model.id} onSelect={setChosen} />
            </CardContent>
          </Card>
          <SnippetPanel models={models} model={model} baseUrl={baseUrl} onModelChange={setChosen} />
        </>
      ) : (
        <Card>
          <CardContent className="pt-5 text-sm text-muted-foreground">
            No models are available yet. A platform administrator adds them to the registry.
          </CardContent>
        </Card>
      )}
    </div>
  );
}
