//go:build !unix

package testenv

import "os/exec"

func ownGroup(cmd *exec.Cmd) {}

// terminate kills at once: there is no portable polite signal.
func terminate(cmd *exec.Cmd) { cmd.Process.Kill() }

func kill(cmd *exec.Cmd) { cmd.Process.Kill() }
