import { z } from 'zod';

/**
 * The body of a report as intake stores it and triage reads it. Intake enforces the hard
 * size limits (8 KB text, 500 console lines); this schema only fixes the shape, so triage
 * can also parse reports read back from storage or a file (`userz triage explain`).
 */
export const ConsoleLevel = z.enum(['log', 'info', 'warn', 'error']);
export type ConsoleLevel = z.infer<typeof ConsoleLevel>;

export const ConsoleLine = z.object({
  level: ConsoleLevel,
  message: z.string(),
  ts: z.union([z.number(), z.string()]).optional(),
});
export type ConsoleLine = z.infer<typeof ConsoleLine>;

export const PageInfo = z.object({
  url: z.string().optional(),
  userAgent: z.string().optional(),
  viewport: z.object({ width: z.number(), height: z.number() }).optional(),
});
export type PageInfo = z.infer<typeof PageInfo>;

/** Who reported it, as the channel knows them (widget user, Slack or Discord member). */
export const ReporterInfo = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type ReporterInfo = z.infer<typeof ReporterInfo>;

export const ReportContent = z.object({
  text: z.string(),
  console: z.array(ConsoleLine).optional(),
  page: PageInfo.optional(),
  reporter: ReporterInfo.optional(),
});
export type ReportContent = z.infer<typeof ReportContent>;
