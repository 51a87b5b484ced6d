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

/**
 * A failed request the widget saw (fetch or XHR that threw, or answered 400 or more).
 * `status` 0 means no answer. The URL carries no query values; headers and bodies only when
 * the App opted in, with denylisted names scrubbed on the device.
 */
export const NetworkEntry = z.object({
  /** An HTTP method is a token: letters only, so it carries no text. */
  method: z.string().regex(/^[A-Za-z]{1,16}$/),
  url: z.string(),
  status: z.number().int().min(0).max(999),
  durationMs: z.number().min(0).optional(),
  error: z.string().optional(),
  ts: z.number().optional(),
  requestHeaders: z.record(z.string(), z.string()).optional(),
  responseHeaders: z.record(z.string(), z.string()).optional(),
  requestBody: z.string().optional(),
  responseBody: z.string().optional(),
});
export type NetworkEntry = z.infer<typeof NetworkEntry>;

/** What the reporter did before reporting: navigations, clicks (role and cut text) and history changes. */
export const Breadcrumb = z.object({
  kind: z.enum(['navigation', 'click', 'history']),
  ts: z.number(),
  url: z.string().optional(),
  /** An ARIA role (or tag name) is a token: lower-case letters, so it carries no text. */
  role: z
    .string()
    .regex(/^[a-z]{1,32}$/)
    .optional(),
  text: z.string().optional(),
});
export type Breadcrumb = z.infer<typeof Breadcrumb>;

/** The reporter's browser and the App's own facts (`Userz.setContext({ release, … })`). */
export const EnvironmentInfo = z.object({
  browser: z.string().optional(),
  os: z.string().optional(),
  viewport: z.object({ width: z.number(), height: z.number() }).optional(),
  devicePixelRatio: z.number().optional(),
  language: z.string().optional(),
  timeZone: z.string().optional(),
  release: z.string().optional(),
  custom: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
export type EnvironmentInfo = z.infer<typeof EnvironmentInfo>;

export const ReportContent = z.object({
  text: z.string(),
  console: z.array(ConsoleLine).optional(),
  page: PageInfo.optional(),
  reporter: ReporterInfo.optional(),
  network: z.array(NetworkEntry).optional(),
  breadcrumbs: z.array(Breadcrumb).optional(),
  environment: EnvironmentInfo.optional(),
});
export type ReportContent = z.infer<typeof ReportContent>;
