package scenario

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tierproof/tierproof/framework/model"
)

// A catalog is a directory of feature files, each holding small scenarios (the
// cases) that cover one policy feature on a shared topology:
//
//	feature: tiers
//	estate: estate            # the cases' estate, as in scenario.yaml
//	externals: [{name: ext}]
//	probes: [tcp/80]          # the default for its cases
//	cases:
//	  - name: securityops-before-application
//	    labels: [static-tiers]
//	    stages: [...]          # as in scenario.yaml; objects written inline
type featureFile struct {
	Feature     string `json:"feature"`
	Description string `json:"description,omitempty"`
	placeFile
	Cases []caseFile `json:"cases"`
}

type caseFile struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Labels      []string    `json:"labels,omitempty"`
	Probes      []string    `json:"probes,omitempty"`
	Stages      []stageFile `json:"stages"`
}

// Catalog is a loaded conformance catalog, its cases in file order.
type Catalog struct {
	Dir   string
	Cases []*Scenario
}

// LoadCatalog reads every *.yaml feature file in dir and validates each case
// as a scenario. Case names are unique across the catalog; labels must be
// usable as Ginkgo labels.
func LoadCatalog(dir string) (*Catalog, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("catalog %s: no *.yaml feature files", dir)
	}
	sort.Strings(files)
	c := &Catalog{Dir: dir}
	seen := map[string]string{}
	var errs []error
	for _, path := range files {
		var f featureFile
		if err := readStrict(path, &f); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, checkFeature(path, f)...)
		for i, cf := range f.Cases {
			root := field.NewPath("cases").Index(i)
			place := f.placeFile
			if len(cf.Probes) > 0 {
				place.Probes = cf.Probes
			}
			s, err := build(path, dir, root, file{Name: cf.Name, Description: cf.Description, placeFile: place, Stages: cf.Stages})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			s.Feature, s.Labels = f.Feature, cf.Labels
			if first, dup := seen[s.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: %s: case %q is already defined in %s", path, root.Child("name"), s.Name, first))
			}
			seen[s.Name] = path
			for j, l := range cf.Labels {
				if err := checkLabel(l); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s: %w", path, root.Child("labels").Index(j), err))
				}
			}
			c.Cases = append(c.Cases, s)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func checkFeature(path string, f featureFile) []error {
	var errs []error
	if f.Feature == "" {
		errs = append(errs, fmt.Errorf("%s: feature: Required value: what the file's cases cover", path))
	} else if err := checkLabel(f.Feature); err != nil {
		errs = append(errs, fmt.Errorf("%s: feature: %w", path, err))
	}
	if len(f.Cases) == 0 {
		errs = append(errs, fmt.Errorf("%s: cases: Required value", path))
	}
	return errs
}

// checkLabel refuses what Ginkgo's label filters cannot name.
func checkLabel(l string) error {
	if msgs := validation.IsDNS1123Label(l); len(msgs) > 0 {
		return fmt.Errorf("invalid label %q: %s", l, strings.Join(msgs, "; "))
	}
	return nil
}

// Features lists the catalog's features in file order.
func (c *Catalog) Features() []string {
	var features []string
	for _, s := range c.Cases {
		if len(features) == 0 || features[len(features)-1] != s.Feature {
			features = append(features, s.Feature)
		}
	}
	return features
}

// Probes is the union of the cases' probes, in first-seen order: what a data
// plane shared by every case must serve.
func (c *Catalog) Probes() []model.Probe {
	var probes []model.Probe
	seen := map[model.Probe]bool{}
	for _, s := range c.Cases {
		for _, p := range s.Probes {
			if !seen[p] {
				seen[p] = true
				probes = append(probes, p)
			}
		}
	}
	return probes
}
