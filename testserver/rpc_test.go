package testserver

import (
	"testing"
	"testing/synctest"
)

// The expected bytes below are what ovsdb-server 3.1 sent for the same
// requests (captured on loopback), modulo member order inside objects.

func TestBasicMethods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := labCluster(t, 1)
		w := dialWire(t, c, 0)

		w.send(`{"method":"list_dbs","params":[],"id":1}`)
		require.Equal(t, `{"id":1,"result":["Lab","_Server"],"error":null}`, string(w.read()))

		w.send(`{"method":"get_schema","params":["Lab"],"id":2}`)
		jsonEq(t, `{"id":2,"result":{"name":"Lab","version":"1.0.0","tables":{"Item":{"indexes":[["name"]],"columns":{"name":{"type":"string"},"n":{"type":"integer"},"data":{"type":"string"}}}}},"error":null}`, w.read())

		w.send(`{"method":"get_schema","params":["_Server"],"id":3}`)
		jsonEq(t, `{"id":3,"result":{"cksum":"3009684573 744","name":"_Server","version":"1.2.0","tables":{"Database":{"columns":{"name":{"type":"string"},"model":{"type":{"key":{"type":"string","enum":["set",["clustered","relay","standalone"]]}}},"connected":{"type":"boolean"},"leader":{"type":"boolean"},"schema":{"type":{"min":0,"key":"string"}},"sid":{"type":{"min":0,"key":"uuid"}},"cid":{"type":{"min":0,"key":"uuid"}},"index":{"type":{"min":0,"key":"integer"}}}}}},"error":null}`, w.read())

		w.send(`{"method":"get_schema","params":["Nope"],"id":4}`)
		require.Equal(t, `{"id":4,"error":{"syntax":"[\"Nope\"]","details":"get_schema request specifies unknown database Nope","error":"unknown database"}}`, string(w.read()))

		w.send(`{"method":"foo","params":[],"id":5}`)
		require.Equal(t, `{"id":5,"error":"unknown method"}`, string(w.read()))

		w.send(`{"method":"echo","params":["x",1],"id":"e"}`)
		require.Equal(t, `{"id":"e","result":["x",1],"error":null}`, string(w.read()))

		w.send(`{"method":"transact","params":[],"id":6}`)
		require.Equal(t, `{"id":6,"error":{"syntax":"[]","details":"transact request params must begin with <db-name>","error":"syntax error"}}`, string(w.read()))

		w.send(`{"method":"set_db_change_aware","params":["x"],"id":7}`)
		require.Equal(t, `{"id":7,"error":{"syntax":"[\"x\"]","details":"set_db_change_aware: true or false parameter expected","error":"syntax error"}}`, string(w.read()))
		w.send(`{"method":"set_db_change_aware","params":[true],"id":8}`)
		require.Equal(t, `{"id":8,"result":{},"error":null}`, string(w.read()))

		w.send(`{"method":"get_server_id","params":[],"id":9}`)
		require.Regexp(t, `^\{"id":9,"result":"[0-9a-f-]{36}","error":null\}$`, string(w.read()))

		// A notification other than "cancel" is ignored; a reply (to a
		// probe the member never sent) too.
		w.send(`{"method":"whatever","params":[],"id":null}{"id":"echo","result":[],"error":null}`)
		w.send(`{"method":"list_dbs","params":[],"id":10}`)
		require.Equal(t, `{"id":10,"result":["Lab","_Server"],"error":null}`, string(w.read()))

		cnt := c.Member(0).Counters()
		require.Equal(t, 1, cnt.Accepted)
		require.Equal(t, 2, cnt.Requests["list_dbs"])
		require.Equal(t, 3, cnt.Requests["get_schema"])
		require.Equal(t, 1, cnt.Requests["whatever"])
		require.Positive(t, cnt.BytesSent)
		require.Positive(t, cnt.BytesReceived)
	})
}

func TestProtocolErrorsCloseTheConnection(t *testing.T) {
	for _, tc := range []struct{ name, input string }{
		{"malformed JSON", `{"method":"list_dbs",,}`},
		{"not an object", `[1,2,3]`},
		{"params not an array", `{"method":"list_dbs","params":{},"id":1}`},
		{"method not a string", `{"method":1,"params":[],"id":1}`},
		{"unknown member", `{"method":"list_dbs","params":[],"id":1,"extra":2}`},
		{"request without params", `{"method":"list_dbs","id":1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := labCluster(t, 1)
				w := dialWire(t, c, 0)
				w.send(tc.input)
				w.expectEOF()
				synctest.Wait()
				require.Equal(t, 0, c.Member(0).Connections())
			})
		})
	}
}

func TestMessageShapes(t *testing.T) {
	require.Equal(t, `{"id":1,"result":[],"error":null}`, string(encodeReply([]byte("1"), []byte("[]"))))
	require.Equal(t, `{"id":null,"method":"locked","params":["L"]}`, string(encodeNotify("locked", []byte(`["L"]`))))
	e := &ovsError{Tag: "syntax error", Details: "d", Syntax: `[1]`}
	require.Equal(t, `{"syntax":"[1]","details":"d","error":"syntax error"}`, string(marshal(e)))
	require.Equal(t, `{"error":"canceled"}`, string(marshal(&ovsError{Tag: "canceled"})))
	// No HTML escaping, as ovsdb-server.
	require.Equal(t, `"<&>"`, string(marshal("<&>")))
}
