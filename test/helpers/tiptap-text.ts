/**
 * PostHog's `textContent` computed the way its web editor computes it, for the properties to
 * compare with: the document loaded into a TipTap v3 schema (StarterKit, tables, task lists, and
 * PostHog's nodes as atoms) and TipTap's own `getText` walk with `blockSeparator: "\n"`. Each
 * PostHog node's own text comes from this project's table of node serializers (what the walk
 * checks here is the walk).
 */
import { getSchema, getText, Mark, Node } from "@tiptap/core";
import { TaskItem, TaskList } from "@tiptap/extension-list";
import { TableKit } from "@tiptap/extension-table";
import { Node as PMNode } from "@tiptap/pm/model";
import StarterKit from "@tiptap/starter-kit";
import { serializeNode } from "../../src/content/text-content.js";

/** Every attribute a generated PostHog node may hold (TipTap keeps declared attributes only). */
const ATTRS = [
  "nodeId",
  "height",
  "title",
  "__init",
  "children",
  "query",
  "id",
  "noInspector",
  "timestampMs",
  "universalFilters",
  "pinned",
  "distinctId",
  "view",
  "groupTypeIndex",
  "src",
  "file",
  "width",
  "content",
  "code",
  "returnVariable",
  "dashboardId",
  "playbackTime",
  "sessionRecordingId",
  "sourceNodeId",
  "href",
  "type",
  "label",
];
const attributes = () => Object.fromEntries(ATTRS.map((name) => [name, { default: null }]));

const INLINE = ["ph-replay-timestamp", "ph-backlink", "ph-mention"];

let made: { schema: ReturnType<typeof getSchema>; names: string[] } | undefined;

function schemaFor(types: readonly string[]) {
  if (made) return made;
  const posthog = types.map((name) =>
    Node.create({
      name,
      group: INLINE.includes(name) ? "inline" : "block",
      inline: INLINE.includes(name),
      atom: true,
      addAttributes: attributes,
    }),
  );
  const comment = Mark.create({ name: "comment", addAttributes: () => ({ id: { default: null } }) });
  const schema = getSchema([
    StarterKit,
    TableKit,
    TaskList,
    TaskItem.configure({ nested: true }),
    comment,
    ...posthog,
  ]);
  made = { schema, names: [...types] };
  return made;
}

/** `types`: every PostHog node type the documents may hold (the schema is made once). */
export function referenceTextContent(doc: unknown, types: readonly string[]): string {
  const { schema, names } = schemaFor(types);
  const node = PMNode.fromJSON(schema, doc as Record<string, unknown>);
  const textSerializers = Object.fromEntries(
    names.map((name) => [
      name,
      ({ node: n }: { node: PMNode }) => serializeNode({ type: n.type.name, attrs: n.attrs }),
    ]),
  );
  return getText(node, { blockSeparator: "\n", textSerializers });
}
