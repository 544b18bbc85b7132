"""CloudFront Functions run locally: the code the template ships, under Node when Node is on the PATH.

One Node process serves every function of a site (a line of JSON in, a line
out), so a request pays a pipe round trip, not a Node start. Without Node,
each function's Python twin (given by the caller) answers instead, and the
tests hold the two to the same answers. Node accepts more than CloudFront's
runtime does (aws-facts): the code is kept to ES5.1 so both agree. A function
that reads a KeyValueStore (`import cf from 'cloudfront'`, the site router)
gets the keys the caller passes with each event.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable
from typing import Any

Twin = Callable[[dict[str, Any]], dict[str, Any]]

_DRIVER = r"""
const readline = require('readline');
const handlers = {};
// CloudFront's `cloudfront` module: its KeyValueStore reads what the caller sent with the event.
let store = {};
const cf = {kvs: () => ({
  get: async (key, options) => {
    if (!Object.prototype.hasOwnProperty.call(store, key)) { throw new Error('KeyValueStore: key not found: ' + key); }
    return options && options.format === 'json' ? JSON.parse(store[key]) : store[key];
  },
  exists: async (key) => Object.prototype.hasOwnProperty.call(store, key),
})};
const IMPORT = /^\s*import cf from 'cloudfront';/m;
readline.createInterface({input: process.stdin}).on('line', async (line) => {
  const message = JSON.parse(line);
  let answer;
  try {
    if (message.code !== undefined) {
      handlers[message.id] = new Function('cf', message.code.replace(IMPORT, '') + '\nreturn handler;')(cf);
      answer = {ok: true};
    } else {
      store = message.store || {};
      answer = {ok: true, result: await handlers[message.id](message.event)};
    }
  } catch (error) {
    answer = {ok: false, error: String((error && error.stack) || error)};
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
"""


class FunctionError(RuntimeError):
    """A function threw (CloudFront would answer 503) or Node could not run it."""


class Functions:
    """The functions of one site by id: `run(id, event)` is CloudFront invoking it."""

    def __init__(self, codes: dict[str, str], twins: dict[str, Twin], node: str | None = None) -> None:
        self.twins = twins
        self.node = node if node is not None else shutil.which("node")
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        if self.node and codes:
            self._process = subprocess.Popen(
                [self.node, "-e", _DRIVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            for function_id, code in codes.items():
                self._call({"id": function_id, "code": code})

    @property
    def engine(self) -> str:
        return "node" if self._process is not None else "python"

    def run(self, function_id: str, event: dict[str, Any], store: dict[str, str] | None = None) -> dict[str, Any]:
        """`store`: the KeyValueStore's keys and values the function reads (its twin reads them itself)."""
        if self._process is None:
            return self.twins[function_id](event)
        result = self._call({"id": function_id, "event": event, "store": store or {}}).get("result")
        if not isinstance(result, dict):
            raise FunctionError(f"{function_id} returned {result!r}, not a request or a response")
        return result

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        with self._lock:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
            line = process.stdout.readline()
        if not line:
            raise FunctionError("the Node process running CloudFront Functions stopped")
        answer: dict[str, Any] = json.loads(line)
        if not answer.get("ok"):
            raise FunctionError(str(answer.get("error")))
        return answer

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()
            process.terminate()
            process.wait(timeout=5)
