// An empty stand-in: the module proxy refuses k8s.io/sample-cli-plugin, and
// kube-apiserver never imports it; k8s.io/kubernetes's go.mod only lists it.
module k8s.io/sample-cli-plugin

go 1.24
