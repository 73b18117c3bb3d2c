// A node:test reporter for tools/test-keepers.mjs: one JSON line per test or suite dequeued (about to
// run), passed or failed, with its name, nesting and file, so the runner knows which test is running when a
// time limit is reached. Not meant for people: the TAP reporter prints the results.
export default async function* testEvents(source) {
  for await (const event of source) {
    if (event.type !== 'test:dequeue' && event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, nesting, file } = event.data;
    const line = { type: event.type, name, nesting, file };
    if (event.type === 'test:fail')
      line.error = String(event.data.details?.error?.cause ?? event.data.details?.error?.message ?? '');
    yield `${JSON.stringify(line)}\n`;
  }
}
