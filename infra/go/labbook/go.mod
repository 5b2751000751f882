// labbook's own small programs for the images it builds locally (runner/kubernetes/images.ts):
// the pod sandbox process and the test pod's HTTP server. Standard library only, so building
// them needs no module proxy.
module labbook.local/tools

go 1.25.0
