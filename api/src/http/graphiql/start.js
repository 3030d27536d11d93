// Starts GraphiQL against this server's /graphql, with a welcome query. Samverkan's own.
(() => {
  "use strict";
  const WELCOME = `# Welcome to Samverkan: the network's record of its work
# with public authorities (organisations, authorities,
# dialogues, proposals, goals).
#
# Run the query below with the run button or Ctrl-Enter.
# The schema is in the documentation panel (left), and
# at /schema.graphql.
#
# Anonymous callers see public records only. To see more,
# open the Headers tab below and send the access token
# of the login mutation:
#   {"Authorization": "Bearer <accessToken>"}
# or a partner token:
#   {"X-Api-Key": "svk_pt_..."}
# Headers are not stored in the browser.

query Welcome {
  viewer {
    kind
  }
  goals(first: 5) {
    nodes {
      title
      progress {
        current
        target
        reached
      }
    }
  }
  dialogues(first: 5) {
    totalCount
    nodes {
      title
      kind
      heldOn
      authorities {
        name
      }
    }
  }
}
`;
  const fetcher = GraphiQL.createFetcher({ url: new URL("/graphql", location.href).href });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: WELCOME,
      defaultEditorToolsVisibility: "headers",
      shouldPersistHeaders: false,
    }),
  );
})();
