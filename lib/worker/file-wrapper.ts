// wsgi.file_wrapper over a real file, on Node's side: the page names a file
// in a FILE frame (lib/worker/protocol.md), and Node opens it and sends its
// bytes to the client itself, without passing them through Python.

import { open, type FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/** What a FILE frame names: `length` bytes from `offset` (null: to the end). */
export interface PageFile {
  path: string;
  offset: number;
  length: number | null;
}

/** A request's FILE: whether Node is sending one now, and when what it sent is done. */
export class FileSend {
  /** From FILE until the file is sent, or Node could not open it (the page then sends it as BODY itself). */
  sending = false;
  /** Resolves once the last FILE's answer and bytes are done: END waits for it. */
  done: Promise<void> | null = null;

  /** Serves `file` (servePageFile), sending FILE_OPENED's object with `answer`. */
  start(file: PageFile, res: ServerResponse, answer: (opened: object) => void, how: FileSending): void {
    this.sending = true;
    const opened = (o: { ok: boolean }) => {
      this.sending = o.ok;
      answer(o);
    };
    this.done = servePageFile(file, res, opened, how).finally(() => (this.sending = false));
  }
}

/**
 * FILE's whole answer: opens the file, tells the page whether it could
 * (`answer`: FILE_OPENED's object) and, if so, sends it into `res`.
 * Resolves once the file is sent and closed, or could not be opened.
 */
export async function servePageFile(
  file: PageFile,
  res: ServerResponse,
  answer: (opened: { ok: boolean; error?: string }) => void,
  how: FileSending,
): Promise<void> {
  const handle = await openPageFile(file);
  if (handle instanceof Error) return answer({ ok: false, error: handle.message });
  answer({ ok: true });
  await sendPageFile(handle, file, res, how);
}

/** Opens the file a page names: its handle, or the error to tell the page (FILE_OPENED). */
export async function openPageFile(file: PageFile): Promise<FileHandle | Error> {
  try {
    return await open(file.path, 'r');
  } catch (err) {
    return err as Error;
  }
}

export interface FileSending {
  /** The request is over already: close the file and send nothing. */
  aborted: boolean;
  /** Bytes of the file as they go to the client. */
  counted(bytes: number): void;
  /** Reading failed midway: the response is destroyed (the client sees it cut short). */
  failed(err: Error): void;
}

/** Sends the file's bytes into `res` without ending it; resolves once the file is closed. */
export function sendPageFile(handle: FileHandle, file: PageFile, res: ServerResponse, how: FileSending): Promise<void> {
  const end = file.length === null ? undefined : file.offset + file.length - 1;
  const stream = handle.createReadStream({ start: file.offset, end, autoClose: true });
  return new Promise((resolve) => {
    if (file.length === 0 || how.aborted) return void handle.close().finally(resolve);
    stream.on('data', (chunk) => how.counted(chunk.length));
    stream.on('error', (err) => {
      how.failed(err);
      res.destroy();
    });
    stream.on('close', resolve);
    stream.pipe(res, { end: false });
  });
}
