import type { Progress } from './progress';

/** Absolute measurements of one side of a comparison, one per repetition. */
export interface Measure {
  /** What was measured, e.g. "DTF end to end" or "BullMQ on Redis". */
  label: string;
  /** Unit of the samples, e.g. "tasks/s". */
  unit: string;
  samples: number[];
}

/**
 * One reported figure: the subject against a baseline measured in the same
 * run, repetition by repetition. Shared machines make absolute figures
 * unrepeatable, so the ratio is the headline and the absolutes are context.
 */
export interface Figure {
  name: string;
  /** `subject[i] / baseline[i]` for every repetition i. */
  ratios: number[];
  subject: Measure;
  baseline: Measure;
  /** What the ratio should reach, in words (e.g. "≥ 3"), when the design sets a bar. */
  target?: string;
}

/** What a scenario produced: figures, or the honest reason it produced none. */
export type Outcome =
  | { status: 'ok'; figures: Figure[]; notes: string[] }
  | { status: 'skipped'; reason: string }
  | { status: 'todo'; reason: string };

/** Everything a scenario gets from the harness. */
export interface RunContext {
  /** Tiny sizes, for CI and for checking the harness itself. */
  smoke: boolean;
  /** Repetitions of every measurement; at least 3. */
  reps: number;
  /**
   * Measurements shared between scenarios of the same run, by key (e.g.
   * `throughput.dtf`), so `limit` can reuse `throughput`'s figure.
   */
  shared: Map<string, Measure>;
  /** Makes the progress indicator of a scenario with `steps` steps. */
  progress(steps: number): Progress;
}

/** A named benchmark. */
export interface Scenario {
  name: string;
  /** One line: what it measures and against what. */
  summary: string;
  run(ctx: RunContext): Promise<Outcome>;
}

/** A scenario from issue 5 that is not built yet: reported as TODO, never with invented figures. */
export function todo(name: string, summary: string, reason: string): Scenario {
  return { name, summary, run: async () => ({ status: 'todo', reason }) };
}
