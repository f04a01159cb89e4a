//go:build unix

package testenv

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the program in its own process group, so that stopping it also stops what it
// started (a Node server's workers, a shell's children).
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func terminate(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

func kill(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
