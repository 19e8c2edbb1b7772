package agent

import "path"

// Path is where the agent is installed in its container image, and so the
// command every executor runs: pods and external hosts exec it as it is, the
// lab maps it to its own build. It is absolute because container runtimes
// resolve a bare name against the image's PATH only (containerd's default PATH
// does not hold "/"); the image also puts its directory on PATH.
const Path = "/usr/local/bin/tierproof-agent"

// Dir is the directory of Path, which the image's PATH holds.
var Dir = path.Dir(Path)
