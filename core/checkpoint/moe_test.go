package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/model"
)

func moeConfig() model.Config {
	c := tinyConfig()
	c.NExperts, c.TopK, c.AuxLossCoef, c.ZLossCoef = 3, 2, 0.01, 0.001
	return c
}

// An MoE checkpoint round-trips: config (MoE keys included) and every
// tensor under its Mixtral-style name.
func TestMoERoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*model.Config)
	}{
		{"default width", func(*model.Config) {}},
		{"explicit width", func(c *model.Config) { c.ExpertInner = 5 }},
		{"switch k=1, no z-loss", func(c *model.Config) { c.TopK, c.ZLossCoef = 1, 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := moeConfig()
			c.edit(&cfg)
			p := perturbed(t, cfg, 4)
			dir := t.TempDir()
			if err := Save(dir, p, nil); err != nil {
				t.Fatal(err)
			}
			q, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if q.Config != p.Config {
				t.Fatalf("config %+v, saved %+v", q.Config, p.Config)
			}
			a, b := p.All(), q.All()
			for i := range a {
				if a[i].Name != b[i].Name || !slices.Equal(a[i].Data, b[i].Data) {
					t.Fatalf("tensor %d: %s vs %s, or data differs", i, a[i].Name, b[i].Name)
				}
			}
			var js map[string]any
			if err := json.Unmarshal(readFile(t, filepath.Join(dir, ConfigFile)), &js); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"num_local_experts":     float64(cfg.NExperts),
				"num_experts_per_tok":   float64(cfg.TopK),
				"moe_intermediate_size": float64(cfg.ExpertHidden()),
				"router_aux_loss_coef":  cfg.AuxLossCoef,
			}
			for k, v := range want {
				if js[k] != v {
					t.Errorf("config.json %s = %v, want %v", k, js[k], v)
				}
			}
			if arch := js["architectures"].([]any); len(arch) != 1 || arch[0] != "GPT2MoELMHeadModel" {
				t.Errorf("architectures %v", arch)
			}
		})
	}
}

// The documented tensor names and shapes of an MoE block.
func TestMoETensorNames(t *testing.T) {
	c := moeConfig()
	p, err := model.NewParams(c)
	if err != nil {
		t.Fatal(err)
	}
	d, h := c.DModel, c.ExpertHidden()
	want := map[string][]int{
		"transformer.h.0.block_sparse_moe.gate.weight":             {d, c.NExperts},
		"transformer.h.0.block_sparse_moe.experts.0.c_fc.weight":   {d, h},
		"transformer.h.0.block_sparse_moe.experts.0.c_fc.bias":     {h},
		"transformer.h.0.block_sparse_moe.experts.2.c_proj.weight": {h, d},
		"transformer.h.0.block_sparse_moe.experts.2.c_proj.bias":   {d},
	}
	got := map[string][]int{}
	for _, ts := range p.All() {
		got[ts.Name] = ts.Shape
		if strings.Contains(ts.Name, ".mlp.") {
			t.Errorf("MoE model has dense tensor %s", ts.Name)
		}
	}
	for n, s := range want {
		if !slices.Equal(got[n], s) {
			t.Errorf("%s: shape %v, want %v", n, got[n], s)
		}
	}
}

// config.json errors in MoE keys name the key.
func TestMoEConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, edit, want string
	}{
		{"k > E", `"num_experts_per_tok": 2` + "|" + `"num_experts_per_tok": 4`, "num_experts_per_tok"},
		{"negative coefficient", `"router_aux_loss_coef": 0.01` + "|" + `"router_aux_loss_coef": -1`, "router_aux_loss_coef"},
		{"experts removed", `"num_local_experts": 3,` + "|" + ``, "num_local_experts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Save(dir, perturbed(t, moeConfig(), 1), nil); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, ConfigFile)
			from, to, _ := strings.Cut(c.edit, "|")
			b := string(readFile(t, path))
			if !strings.Contains(b, from) {
				t.Fatalf("config.json lacks %q:\n%s", from, b)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(b, from, to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error %v, want one naming %s", err, c.want)
			}
		})
	}
}
