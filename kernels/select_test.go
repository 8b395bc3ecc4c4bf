package kernels

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// fakeBLAS stands for a loaded OpenBLAS in the selection table.
type fakeBLAS struct{ Gonum }

func (fakeBLAS) Name() string { return "openblas" }

// fakeNative stands for the native sgemm in the selection table.
type fakeNative struct{ Gonum }

func (fakeNative) Name() string { return "native" }

func TestSelectBackend(t *testing.T) {
	loads := func() (Backend, error) { return fakeBLAS{}, nil }
	fails := func() (Backend, error) { return nil, errors.New("libopenblas.so.0: cannot open shared object file") }
	native := func() (Backend, error) { return fakeNative{}, nil }
	noNative := func() (Backend, error) { return nil, errors.New("no AVX2") }
	cases := []struct {
		env      string
		native   func() (Backend, error)
		load     func() (Backend, error)
		wantName string
		wantErr  string // "" = LoadError nil
		wantInfo string // substring of Info
	}{
		{"", native, loads, "native", "", ""},
		{"auto", native, fails, "native", "", ""},
		{"", noNative, loads, "openblas", "", ""},
		{"auto", noNative, loads, "openblas", "", ""},
		{" OpenBLAS ", native, loads, "openblas", "", ""},
		{"Native", native, fails, "native", "", ""},
		{"native", noNative, loads, "gonum", "GRAO_BLAS=native: no AVX2", "native sgemm requested but unavailable"},
		{"gonum", native, loads, "gonum", "", "GRAO_BLAS=gonum"},
		{"GONUM", noNative, fails, "gonum", "", "GRAO_BLAS=gonum"},
		{"", noNative, fails, "gonum", "", "OpenBLAS not loaded: libopenblas.so.0: cannot open"},
		{"auto", noNative, fails, "gonum", "", "OpenBLAS not loaded"},
		{"openblas", native, fails, "gonum", "GRAO_BLAS=openblas: libopenblas.so.0: cannot open", "OpenBLAS requested but not loaded"},
		{"mkl", native, loads, "gonum", `GRAO_BLAS="mkl": unknown value`, `GRAO_BLAS="mkl"`},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%d/%q", i, tc.env), func(t *testing.T) {
			loaded := false
			b, err := selectBackend(tc.env, tc.native, func() (Backend, error) { loaded = true; return tc.load() })
			if b == nil {
				t.Fatal("nil backend")
			}
			if b.Name() != tc.wantName {
				t.Errorf("backend %q, want %q", b.Name(), tc.wantName)
			}
			if gotErr := fmt.Sprint(err); (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(gotErr, tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(b.Info(), tc.wantInfo) {
				t.Errorf("Info %q does not contain %q", b.Info(), tc.wantInfo)
			}
			// Forcing gonum must not even dlopen the library (a broken
			// install must be avoidable with GRAO_BLAS=gonum).
			if strings.EqualFold(strings.TrimSpace(tc.env), "gonum") && loaded {
				t.Error("GRAO_BLAS=gonum still loaded OpenBLAS")
			}
		})
	}
}

// FuzzSelectBackend: any GRAO_BLAS value gives a usable backend, never a
// panic, and an error exactly when the value is not understood or the
// requested library failed.
func FuzzSelectBackend(f *testing.F) {
	for _, s := range []string{"", "auto", "gonum", "openblas", "OPENBLAS", "native", "mkl", "\x00", " gonum\n"} {
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, env string, ok, nativeOK bool) {
		b, err := selectBackend(env, func() (Backend, error) {
			if nativeOK {
				return fakeNative{}, nil
			}
			return nil, errors.New("no AVX2")
		}, func() (Backend, error) {
			if ok {
				return fakeBLAS{}, nil
			}
			return nil, errors.New("absent")
		})
		if b == nil || b.Info() == "" {
			t.Fatalf("env %q: unusable backend %v", env, b)
		}
		mode := strings.ToLower(strings.TrimSpace(env))
		known := mode == "" || mode == "auto" || mode == "gonum" || mode == "openblas" || mode == "native"
		wantErr := !known || (mode == "openblas" && !ok) || (mode == "native" && !nativeOK)
		if (err != nil) != wantErr {
			t.Fatalf("env %q ok=%t: err %v", env, ok, err)
		}
	})
}

// The selection at init is tested end to end in a child process, since the
// environment is read only once. The child prints what it got.
const childEnv = "GRAO_KERNELS_TEST_CHILD"

func TestSelectChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("helper for TestSelectFromEnvironment")
	}
	fmt.Printf("name=%s loaderr=%v\n", Current().Name(), LoadError() != nil)
}

func TestSelectFromEnvironment(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	_, obErr := OpenBLAS()
	_, nErr := NativeBackend()
	hasNative := nErr == nil
	autoName, autoNeedsLib, nativeName, missingLibName := "native", false, "native", "native"
	if !hasNative {
		autoName, autoNeedsLib, nativeName, missingLibName = "openblas", true, "gonum", "gonum"
	}
	cases := []struct {
		name        string
		env         []string
		wantName    string
		wantLoadErr bool
		needsLib    bool
	}{
		{"forced gonum", []string{"GRAO_BLAS=gonum"}, "gonum", false, false},
		{"required but missing", []string{"GRAO_BLAS=openblas", "GRAO_OPENBLAS_LIB=/nonexistent/libopenblas.so.0"}, "gonum", true, false},
		{"auto with missing library", []string{"GRAO_BLAS=", "GRAO_OPENBLAS_LIB=/nonexistent/libopenblas.so.0"}, missingLibName, false, false},
		{"bad value", []string{"GRAO_BLAS=cuda"}, "gonum", true, false},
		{"auto", []string{"GRAO_BLAS="}, autoName, false, autoNeedsLib},
		{"native", []string{"GRAO_BLAS=native"}, nativeName, !hasNative, false},
		{"required and present", []string{"GRAO_BLAS=openblas"}, "openblas", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needsLib && obErr != nil {
				t.Skipf("OpenBLAS not available here: %v", obErr)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestSelectChild$", "-test.count=1")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, EnvBLAS+"=") && !strings.HasPrefix(kv, EnvOpenBLASLib+"=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(append(env, childEnv+"=1"), tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child failed: %v\n%s", err, out)
			}
			want := fmt.Sprintf("name=%s loaderr=%t", tc.wantName, tc.wantLoadErr)
			if !strings.Contains(string(out), want) {
				t.Errorf("child printed %q, want %q", out, want)
			}
		})
	}
}

// TestDefaultSelection checks this process's own init: with GRAO_BLAS unset,
// the native sgemm where the CPU has it, else OpenBLAS when present, must be
// in use (this catches an init order mistake where gonum.go's init would
// run last and win).
func TestDefaultSelection(t *testing.T) {
	if os.Getenv(EnvBLAS) != "" || os.Getenv(EnvOpenBLASLib) != "" {
		t.Skipf("%s/%s set in the environment", EnvBLAS, EnvOpenBLASLib)
	}
	want := "native"
	if _, err := NativeBackend(); err != nil {
		if _, err := OpenBLAS(); err != nil {
			t.Skipf("neither the native sgemm nor OpenBLAS available here: %v", err)
		}
		want = "openblas"
	}
	if got := Current().Name(); got != want {
		t.Errorf("Current() = %s (%s), want %s", got, Current().Info(), want)
	}
	if LoadError() != nil {
		t.Errorf("LoadError() = %v", LoadError())
	}
}

// fakeBackend is a named gonum for the Provide tests.
type fakeBackend struct {
	Gonum
	name string
}

func (f fakeBackend) Name() string { return f.name }

func TestProvide(t *testing.T) {
	prevBackend, prevErr := Current(), selectErr
	t.Cleanup(func() {
		Use(prevBackend)
		selectErr = prevErr
		providedMu.Lock()
		delete(provided, "fake-ok")
		delete(provided, "fake-broken")
		delete(provided, "fake-other")
		providedMu.Unlock()
	})

	t.Setenv(EnvBLAS, "fake-ok")
	Provide("fake-other", func() (Backend, error) { t.Fatal("opened a backend GRAO_BLAS does not name"); return nil, nil })
	Provide("fake-ok", func() (Backend, error) { return fakeBackend{name: "fake-ok"}, nil })
	if Current().Name() != "fake-ok" || LoadError() != nil {
		t.Fatalf("after Provide with GRAO_BLAS=fake-ok: current %q, LoadError %v", Current().Name(), LoadError())
	}

	t.Setenv(EnvBLAS, "FAKE-broken")
	Provide("fake-broken", func() (Backend, error) { return nil, errors.New("no device") })
	if err := LoadError(); err == nil || !strings.Contains(err.Error(), "no device") || !strings.Contains(err.Error(), EnvBLAS) {
		t.Fatalf("LoadError = %v, want the open error naming %s", err, EnvBLAS)
	}
	if !strings.Contains(Current().Info(), "no device") {
		t.Errorf("fallback Info %q does not say why", Current().Info())
	}

	for _, name := range []string{"fake-ok", "gonum", "openblas", "auto", ""} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Provide(%q) did not panic", name)
				}
			}()
			Provide(name, func() (Backend, error) { return nil, nil })
		}()
	}
}
