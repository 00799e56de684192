import { Link } from "react-router-dom";

import { Button } from "@/components/ui/button";

export function NotFoundPage() {
  return (
    <div className="grid max-w-md gap-3">
      <h1 className="text-2xl font-semibold">Page not found</h1>
      <p className="text-sm text-muted-foreground">
        Nothing lives at this address. It may have moved, or the link may be incomplete.
      </p>
      <div>
        <Button asChild variant="outline">
          <Link to="/">Go to the start page</Link>
        </Button>
      </div>
    </div>
  );
}
