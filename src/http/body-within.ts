/**
 * A fetched body cut at its fetch's deadline (runtime-neutral), for the gateway's probes of its
 * workers: src/gateway/routes/models.ts, src/gateway/routes/readiness.ts.
 */

/**
 * The body, cut at `deadline` whatever the fetcher does with its signal once the head has come (the
 * Fetch standard ties it to the body; a stub or a binding need not): on abort our stream errors with
 * the deadline's reason, so a pending read rejects at once, and the worker's body is cancelled. A
 * peer that sends its head and then stalls costs the deadline, not the request.
 */
export function bodyWithin(
  body: ReadableStream<Uint8Array> | null,
  deadline: AbortSignal,
): ReadableStream<Uint8Array> | null {
  if (!body) return null;
  const source = body.getReader();
  let stopWatching: () => void = () => undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const cut = () => {
          controller.error(deadline.reason);
          source.cancel(deadline.reason).catch(() => undefined);
        };
        if (deadline.aborted) return cut();
        deadline.addEventListener('abort', cut, { once: true });
        stopWatching = () => deadline.removeEventListener('abort', cut);
      },
      async pull(controller) {
        const { done, value } = await source.read();
        // After a cut the stream is errored: neither call may reach it.
        if (deadline.aborted) return;
        if (!done) return controller.enqueue(value);
        stopWatching();
        controller.close();
      },
      cancel(reason) {
        stopWatching();
        return source.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
