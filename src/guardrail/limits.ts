/** Caps on a change set and its paths. Callers may lower or raise them per deployment. */
export interface ChangeSetLimits {
  maxFiles: number;
  maxTotalBytes: number;
  maxFileBytes: number;
  /** UTF-8 bytes of a whole path; Linux PATH_MAX. */
  maxPathBytes: number;
  /** UTF-8 bytes of one path segment; NAME_MAX on the common file systems. */
  maxSegmentBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ChangeSetLimits> = Object.freeze({
  maxFiles: 500,
  maxTotalBytes: 5 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxPathBytes: 4096,
  maxSegmentBytes: 255,
});
