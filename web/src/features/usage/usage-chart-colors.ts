/** Series colours: distinct in light and dark themes, never told apart by red/green alone. */
export const SERIES_COLORS = [
  "oklch(0.62 0.17 255)",
  "oklch(0.72 0.15 65)",
  "oklch(0.6 0.13 165)",
  "oklch(0.58 0.2 305)",
  "oklch(0.65 0.19 25)",
  "oklch(0.7 0.1 210)",
  "oklch(0.55 0.05 286)",
];
