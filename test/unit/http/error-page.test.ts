// The error page outside development mode: short plain text with the request id; details only in debug mode.
import { describe, expect, it } from 'vitest';
import { errorPageText } from '../../../lib/http/error-page.js';

describe('errorPageText', () => {
  it('gives the status, its explanation, the request id and where the details are, and the detail only in debug mode', () => {
    const quiet = errorPageText(500, 'ab-1', 'Traceback: secret', false);
    expect(quiet).toBe(
      '500 Internal Server Error\n\nThe page failed while handling the request.\nRequest id: ab-1\nThe details are in the server log, under this request id.\n',
    );
    expect(quiet).not.toContain('secret');
    expect(errorPageText(500, 'ab-1', 'Traceback: secret', true)).toBe(`${quiet}\nTraceback: secret\n`);
  });

  it('always shows a note, and copes with a status it has no words for', () => {
    expect(errorPageText(404, 'x', '', false, 'Install it.')).toBe(
      '404 Not Found\n\nThe requested URL was not found on this server.\n\nInstall it.\n\nRequest id: x\n',
    );
    expect(errorPageText(418, 'x', '', false).split('\n')[0]).toBe("418 I'm a Teapot");
  });
});
