// Command gitops-health computes, for Kubernetes objects read as JSON lines on stdin, the
// status Flux would show (kstatus, from sigs.k8s.io/cli-utils) and the health Argo CD would
// show (its built-in crossplane health.lua, run with gopher-lua as Argo CD runs it). One
// line out per object: {"kstatus": ..., "kstatusMessage": ..., "argo": ..., "argoMessage": ...}.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Kstatus        string `json:"kstatus"`
	KstatusMessage string `json:"kstatusMessage"`
	Argo           string `json:"argo"`
	ArgoMessage    string `json:"argoMessage"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gitops-health HEALTH.LUA < objects.jsonl")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		// Decoded as the API machinery decodes objects (integers stay integers).
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(in.Bytes()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		var v verdict
		result, err := status.Compute(u)
		if err != nil {
			v.Kstatus, v.KstatusMessage = "Error", err.Error()
		} else {
			v.Kstatus, v.KstatusMessage = result.Status.String(), result.Message
		}
		v.Argo, v.ArgoMessage = argo(string(script), u.Object)
		if err := out.Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// argo runs the health script the way Argo CD does: the object as the global `obj`, only
// the safe standard libraries, and the returned table's status and message.
func argo(script string, obj map[string]interface{}) (string, string) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		l.Push(l.NewFunction(lib.open))
		l.Push(lua.LString(lib.name))
		l.Call(1, 0)
	}
	l.SetGlobal("obj", decode(l, obj))
	if err := l.DoString(script); err != nil {
		return "Error", err.Error()
	}
	table, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "Error", "the script returned no table"
	}
	return table.RawGetString("status").String(), table.RawGetString("message").String()
}

func decode(l *lua.LState, value interface{}) lua.LValue {
	switch v := value.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []interface{}:
		t := l.NewTable()
		for _, item := range v {
			t.Append(decode(l, item))
		}
		return t
	case map[string]interface{}:
		t := l.NewTable()
		for k, item := range v {
			t.RawSetString(k, decode(l, item))
		}
		return t
	default:
		return lua.LString(fmt.Sprint(v))
	}
}
