/** Paged results: the fields every paged result has, and the arguments of the next page. */
import { z } from "zod";

export const Paging = {
  has_more: z.boolean(),
  next: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("The exact arguments for the next page, or null on the last page."),
};

export const LIST_DEFAULT_LIMIT = 25;
export const ACTIVITY_DEFAULT_LIMIT = 10;
