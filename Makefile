# tierproof — see README.md. Every tool is pinned here; nothing is downloaded at test time.
GO            ?= go
BIN           := bin

.PHONY: bench-simulate fuzz all build agent agent-image node-binaries node-image tools-images cluster-test cluster-test-run bench-cluster bench-cluster-run lab test vet fmt-check bench bench-lab lab-soak generate e2e conformance clean tools

# The integration tests' servers, built from the Go module proxy by hack/tools/*
# into a cache directory; a binary already there is not rebuilt.
TOOLS_DIR          ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tierproof/tools
KUBERNETES_VERSION := v1.36.3
ETCD_VERSION       := v3.6.8
KWOK_VERSION       := v0.8.0
COREDNS_VERSION    := v1.14.2
CNI_PLUGINS_VERSION := v1.10.0
KUBE_ROUTER_VERSION := v2.1.0
KUBE_APISERVER     := $(TOOLS_DIR)/kube-apiserver-$(KUBERNETES_VERSION)
ETCD               := $(TOOLS_DIR)/etcd-$(ETCD_VERSION)
KWOK               := $(TOOLS_DIR)/kwok-$(KWOK_VERSION)
KWOK_STAGES        := $(TOOLS_DIR)/kwok-stages-$(KWOK_VERSION).yaml
CONTROLLER_GEN     := $(TOOLS_DIR)/controller-gen-v0.20.0
GOTESTSUM          := $(TOOLS_DIR)/gotestsum-v1.13.0
TOOLS_BUILD        := CGO_ENABLED=0 $(GO) build -trimpath

all: build

## build: the tierproof CLI into bin/
build: agent
	$(GO) build -o $(BIN)/tierproof ./cmd/tierproof

## agent: the static probe agent into bin/
agent:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/tierproof-agent ./cmd/tierproof-agent

## agent-image: the agent's container image archive, built without a Docker daemon
agent-image: build
	$(BIN)/tierproof agent-image --binary $(BIN)/tierproof-agent --output $(BIN)/tierproof-agent-image.tar

## test: everything that runs without kind: unit tests, the lab (root; skipped without it), and
## integration tests against a real kube-apiserver + etcd + kwok (built first by make tools).
## gotestsum's closing summary lists every skipped test with its reason.
test: fmt-check vet tools
	TIERPROOF_KUBE_APISERVER=$(KUBE_APISERVER) TIERPROOF_ETCD=$(ETCD) TIERPROOF_KWOK=$(KWOK) \
	TIERPROOF_KWOK_STAGES=$(KWOK_STAGES) TIERPROOF_CONTROLLER_GEN=$(CONTROLLER_GEN) \
		$(GOTESTSUM) --format pkgname -- -timeout 20m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## bench: the model's speed on the large estate (1 000 pods, 500 policies), one core; loading 10 000 ACNPs and a 200-stage scenario; then
## simulate's text and JSON writers on its full 10⁶-cell matrix
bench:
	$(GO) test -run '^$$' -bench Evaluate -benchtime 3000000x -cpu 1 ./framework/model/
	$(GO) test -run '^$$' -bench Compile -benchtime 5x -cpu 1 ./framework/model/
	$(GO) test -run '^$$' -bench LoadPolicies -benchtime 3x -benchmem ./framework/policy/
	$(GO) test -run '^$$' -bench LoadManyStages -benchtime 3x -benchmem ./framework/scenario/
	$(GO) test -run '^$$' -bench Outputs -benchtime 3x -benchmem ./framework/report/
	$(GO) test -run '^$$' -bench Diff -benchtime 3x -benchmem ./framework/diff/
	$(GO) test -run '^$$' -bench WholeMatrix -benchtime 3x -benchmem ./framework/matrix/

## bench-simulate: simulate as whole processes under /usr/bin/time -v on fixtures.KNPEstate: 300 pods
## with 100 NetworkPolicies, 1 000 with 300, 10 000 with 3 000 (text output to /dev/null), and
## 100 000 ClusterNetworkPolicies on 100 pods (loading and compiling); inputs in reports/bench-simulate
BENCH_SIM := $(CURDIR)/reports/bench-simulate
bench-simulate: build
	rm -rf $(BENCH_SIM)
	@set -e; for shape in "300 30 100 0" "1000 100 300 0" "10000 1000 3000 0" "100000-acnps 10 0 100000"; do \
		set -- $$shape; \
		$(GO) run ./hack/estates -namespaces $$2 -knps $$3 -acnps $$4 -out $(BENCH_SIM)/$$1; \
		/usr/bin/time -v $(BIN)/tierproof simulate --topology $(BENCH_SIM)/$$1/topology.yaml --policies $(BENCH_SIM)/$$1/policies.yaml \
			--max-input-mib 512 > /dev/null 2> $(BENCH_SIM)/$$1/time.txt; \
		echo "$$1: $$(grep -E 'Elapsed' $(BENCH_SIM)/$$1/time.txt | sed 's/.*: //') wall, $$(grep -E 'Maximum resident' $(BENCH_SIM)/$$1/time.txt | sed 's/.*: //') KB peak"; \
	done

## fuzz: each fuzz target for FUZZTIME (default 1m): the policy decoder and model, the topology
## parser, the YAML checks and the scenario loader (make test runs their seed corpora only)
FUZZTIME ?= 1m
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeAndCompile$$' -fuzztime $(FUZZTIME) ./framework/policy/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./framework/topology/
	$(GO) test -run '^$$' -fuzz '^FuzzChecks$$' -fuzztime $(FUZZTIME) ./framework/yamlcheck/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadCatalog$$' -fuzztime $(FUZZTIME) ./framework/scenario/

## lab: play the blog walkthrough in the network-namespace lab (root); reports in reports/lab/
lab: build
	$(BIN)/tierproof lab --scenario scenarios/antrea-blog --reports reports/lab

## bench-lab: probe engine vs one-process-per-flow on a 1 920-flow stage in the lab (root)
bench-lab:
	$(GO) test -run '^$$' -bench Stage -benchtime 1x ./framework/netlab/

## lab-soak: 20 runs of a 12-endpoint × 8-probe mixed matrix in the lab, zero misclassification (root)
lab-soak:
	$(GO) test -run '^$$' -bench RepeatedMatrix -benchtime 1x -timeout 20m ./framework/netlab/

## generate: regenerate the deepcopy code and the CRDs (fixtures/antrea/crds) of the Antrea type mirror, and
## take the ClusterNetworkPolicy CRD (fixtures/networkpolicyapi) from the pinned network-policy-api module
generate: $(CONTROLLER_GEN)
	$(CONTROLLER_GEN) object paths=./apis/antrea/...
	$(CONTROLLER_GEN) crd:allowDangerousTypes=true paths=./apis/antrea/... output:crd:dir=fixtures/antrea/crds
	install -m 644 "$$($(GO) list -m -f '{{.Dir}}' sigs.k8s.io/network-policy-api)/config/crd/experimental/policy.networking.k8s.io_clusternetworkpolicies.yaml" fixtures/networkpolicyapi/

## e2e: the Ginkgo suite on kind + Antrea (Docker, openvswitch); reports in reports/e2e/.
## Flags pass through E2E_FLAGS: -tierproof.keep-cluster=never, -tierproof.antrea-version=v2.7.0,
## -tierproof.node-image=..., -ginkgo.label-filter=stage:block-all, -ginkgo.focus=...
e2e: agent
	$(GO) test ./suites/e2e -count=1 -timeout 100m -run '^TestE2E$$' -args -ginkgo.v -ginkgo.timeout=90m \
		-tierproof.data-plane=antrea -tierproof.reports=$(CURDIR)/reports/e2e \
		-ginkgo.junit-report=$(CURDIR)/reports/e2e/ginkgo-junit.xml $(E2E_FLAGS)

## conformance: the conformance catalog (scenarios/conformance) on kind + Antrea; a summary by
## feature and per-case reports in reports/conformance/. Same E2E_FLAGS as e2e, e.g.
## -ginkgo.label-filter=feature:tiers
conformance: agent
	$(GO) test ./suites/conformance -count=1 -timeout 130m -run '^TestConformance$$' -args -ginkgo.v -ginkgo.timeout=120m \
		-tierproof.data-plane=antrea -tierproof.reports=$(CURDIR)/reports/conformance \
		-ginkgo.junit-report=$(CURDIR)/reports/conformance/ginkgo-junit.xml $(E2E_FLAGS)

## cluster-test: the real path on real kind clusters with kube-router enforcing (Docker; root for
## make node-image): the conformance catalog's Kubernetes NetworkPolicy cases, then the K8s-only
## walkthrough passing, failing on an out-of-band policy, and interrupted; each cluster is removed
cluster-test:
	@if ! docker info >/dev/null 2>&1; then echo "cluster-test: skipped: no Docker engine answers (bash hack/docker/start starts one)"; exit 0; fi; \
	$(MAKE) --no-print-directory cluster-test-run

cluster-test-run: node-image tools-images
	$(GO) test ./suites/conformance -count=1 -timeout 30m -run '^TestConformance$$' -args -ginkgo.v \
		-tierproof.data-plane=kube-router -tierproof.keep-cluster=never -ginkgo.label-filter=feature:k8s-networkpolicy \
		-tierproof.reports=$(CURDIR)/reports/cluster-test/conformance
	TIERPROOF_REAL_CLUSTER=1 $(GO) test ./suites/e2e -count=1 -timeout 60m -v -run '^TestRealCluster$$'

## bench-cluster: a generated estate of 150 pods (tierproof generate) on kind with kube-router and the
## local node image: boot, readiness, canary, per-stage flows, execs, rounds and wall time, and the
## run's peak memory, in reports/bench-cluster/run.log; skips with one line where no Docker engine answers.
## SCALE="--namespaces 10 --workloads 5 --replicas 3" sets the shape; SAMPLE=0 leaves out the
## one-exec-per-flow sample (five sources' flows, about 8 of the run's 12 minutes).
SCALE ?= --namespaces 10 --workloads 5 --replicas 3
SAMPLE ?= 5
bench-cluster:
	@if ! docker info >/dev/null 2>&1; then echo "bench-cluster: skipped: no Docker engine answers (bash hack/docker/start starts one)"; exit 0; fi; \
	$(MAKE) --no-print-directory bench-cluster-run

bench-cluster-run: build node-image
	rm -rf $(CURDIR)/reports/bench-cluster
	$(BIN)/tierproof generate $(CURDIR)/reports/bench-cluster/scale $(SCALE)
	$(GO) test -c -o $(CURDIR)/$(BIN)/e2e.test ./suites/e2e
	cd suites/e2e && /usr/bin/time -v $(CURDIR)/$(BIN)/e2e.test -test.run '^TestE2E$$' -test.v -test.timeout 60m -ginkgo.v \
		-tierproof.data-plane=kube-router -tierproof.keep-cluster=never -tierproof.scenarios=$(CURDIR)/reports/bench-cluster/scale -tierproof.per-flow-sample=$(SAMPLE) -tierproof.idle-sample=10s \
		-tierproof.reports=$(CURDIR)/reports/bench-cluster/reports > $(CURDIR)/reports/bench-cluster/run.log 2>&1; \
		status=$$?; grep -E 'kind cluster .* created|canary:|stage [^ ]+: [0-9]+ flows|stage [^ ]+: CPU|one exec per flow|reports: [0-9]+ cells|Ran [0-9]+ of|Maximum resident|Elapsed \(wall' $(CURDIR)/reports/bench-cluster/run.log; exit $$status

## tools: kube-apiserver, etcd, kwok (and its stages), controller-gen and gotestsum, into $(TOOLS_DIR)
tools: $(KUBE_APISERVER) $(ETCD) $(KWOK) $(KWOK_STAGES) $(CONTROLLER_GEN) $(GOTESTSUM)

KUBE_VERSION_FLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBERNETES_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36 \
	-X k8s.io/client-go/pkg/version.gitVersion=$(KUBERNETES_VERSION)

$(KUBE_APISERVER):
	@echo "building kube-apiserver $(KUBERNETES_VERSION) (about 4 minutes cold on 2 cores)"
	cd hack/tools/kubernetes && $(TOOLS_BUILD) -ldflags "-s -w $(KUBE_VERSION_FLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-apiserver

## node-binaries: everything the local kind node image is made of, built from the Go module proxy
NODE_BINARIES := $(TOOLS_DIR)/node-$(KUBERNETES_VERSION)-etcd-$(ETCD_VERSION)-coredns-$(COREDNS_VERSION)-cni-$(CNI_PLUGINS_VERSION)-kube-router-$(KUBE_ROUTER_VERSION)
node-binaries: $(NODE_BINARIES)/.built

$(NODE_BINARIES)/.built: $(ETCD) cmd/tierproof-pause/main.go $(wildcard hack/docker/runtime/*.go)
	@echo "building the node image's binaries (about 10 minutes cold on 2 cores)"
	mkdir -p $(NODE_BINARIES)/kubernetes $(NODE_BINARIES)/cni
	cd hack/tools/kubernetes && $(TOOLS_BUILD) -ldflags "-s -w $(KUBE_VERSION_FLAGS)" -o $(NODE_BINARIES)/kubernetes/ \
		$(addprefix k8s.io/kubernetes/cmd/,kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
	cd hack/tools/coredns && $(TOOLS_BUILD) -ldflags "-s -w" -o $(NODE_BINARIES)/coredns github.com/coredns/coredns
	cd hack/tools/cni-plugins && $(TOOLS_BUILD) -ldflags "-s -w" -o $(NODE_BINARIES)/cni/ \
		$(addprefix github.com/containernetworking/plugins/plugins/,ipam/host-local main/loopback main/ptp meta/portmap)
	cd hack/tools/kube-router && $(TOOLS_BUILD) -ldflags "-s -w \
		-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$(KUBE_ROUTER_VERSION)" \
		-o $(NODE_BINARIES)/kube-router github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
	$(TOOLS_BUILD) -ldflags "-s -w" -o $(NODE_BINARIES)/pause ./cmd/tierproof-pause
	$(TOOLS_BUILD) -ldflags "-s -w" -o $(NODE_BINARIES)/runtime ./hack/docker/runtime
	cp $(ETCD) $(NODE_BINARIES)/etcd
	touch $@

## tools-images: the images of pods' own network tools for -tierproof.prober=tools: Debian with
## iputils-ping, curl and netcat-openbsd, and BusyBox alone (root: debootstrap; cached)
tools-images: build
	$(BIN)/tierproof tools-images

## node-image: the kind node image for machines that reach no registry (root, Docker; cached)
node-image: build node-binaries
	$(BIN)/tierproof node-image --binaries $(NODE_BINARIES)

$(ETCD):
	@echo "building etcd $(ETCD_VERSION)"
	cd hack/tools/etcd && $(TOOLS_BUILD) -ldflags "-s -w" -o $@ .

$(KWOK):
	@echo "building kwok $(KWOK_VERSION)"
	cd hack/tools/kwok && $(TOOLS_BUILD) -ldflags "-s -w" -o $@ sigs.k8s.io/kwok/cmd/kwok

$(KWOK_STAGES):
	cd hack/tools/kwok && $(GO) run ./stages > $@.tmp && mv $@.tmp $@

$(GOTESTSUM):
	@echo "building gotestsum"
	cd hack/tools/gotestsum && $(TOOLS_BUILD) -ldflags "-s -w" -o $@ gotest.tools/gotestsum

$(CONTROLLER_GEN):
	@echo "building controller-gen"
	cd hack/tools/controller-gen && $(TOOLS_BUILD) -ldflags "-s -w" -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

## clean: bin/ and the generated reports (reports/README.md is tracked and stays)
clean:
	rm -rf $(BIN)
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
