/** One image that a Markdown page shows. */
export interface ImageReference {
  /** The URL as written. */
  target: string;
  /** Where it was found: a Markdown image, an <img> tag or a <source> tag (of a <picture>). */
  kind: 'markdown' | 'img' | 'source';
  /** The alternative text ('' when there is none; a <source> has none). */
  alt: string;
  /** 1-based line of the reference. */
  line: number;
  /** The file a relative target names; undefined for URLs with a scheme. */
  path: string | undefined;
}
/** The text with fenced code blocks, inline code and HTML comments blanked out (lines kept). */
export function withoutCode(text: string): string;
/** Every image that the Markdown file at `file` shows, in order. */
export function imageReferences(file: string): ImageReference[];
