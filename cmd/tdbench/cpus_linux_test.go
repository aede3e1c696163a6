package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestOnCPUs runs a program through on-cpus (this test binary standing in for tdbench) and reads
// the CPUs the kernel lets it use: the confinement must reach the program exec'd, not only the
// wrapper.
func TestOnCPUs(t *testing.T) {
	if args := os.Getenv("TDBENCH_TEST_ON_CPUS"); args != "" {
		err := execOnCPUs(strings.Fields(args)) // returns only on failure
		t.Fatal(err)
	}
	allowed := allowedCPUs()
	if len(allowed) < 2 {
		t.Skip("needs two CPUs to tell a confined process from a free one")
	}
	last := allowed[len(allowed)-1]
	cmd := exec.Command(os.Args[0], "-test.run=^TestOnCPUs$")
	cmd.Env = append(os.Environ(), "TDBENCH_TEST_ON_CPUS="+formatCPUList([]int{last})+" /bin/grep Cpus_allowed_list /proc/self/status")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("on-cpus: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 || fields[1] != formatCPUList([]int{last}) {
		t.Fatalf("the program ran with %q, want Cpus_allowed_list: %d", out, last)
	}
}

// TestPinSelf confines a child test process and checks every one of its threads, and GOMAXPROCS.
func TestPinSelf(t *testing.T) {
	if os.Getenv("TDBENCH_TEST_PIN_SELF") != "" {
		cpu, _ := parseCPUList(os.Getenv("TDBENCH_TEST_PIN_SELF"))
		if err := pinSelf(cpu); err != nil {
			t.Fatal(err)
		}
		if n := runtime.GOMAXPROCS(0); n != 1 {
			t.Fatalf("GOMAXPROCS %d after pinning to one CPU", n)
		}
		tasks, _ := os.ReadDir("/proc/self/task")
		for _, task := range tasks {
			raw, err := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
			if err != nil {
				continue // the thread exited
			}
			if !strings.Contains(string(raw), "Cpus_allowed_list:\t"+os.Getenv("TDBENCH_TEST_PIN_SELF")+"\n") {
				t.Fatalf("thread %s not confined:\n%s", task.Name(), raw)
			}
		}
		return
	}
	allowed := allowedCPUs()
	if len(allowed) < 2 {
		t.Skip("needs two CPUs to tell a confined process from a free one")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPinSelf$", "-test.v")
	cmd.Env = append(os.Environ(), "TDBENCH_TEST_PIN_SELF="+formatCPUList(allowed[len(allowed)-1:]))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestPinSelf") {
		t.Fatalf("the pinned child: %v\n%s", err, out)
	}
}
