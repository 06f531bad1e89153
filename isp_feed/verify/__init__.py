"""DNS verification engine: ask ISP resolvers and a control about listed names, and classify the answers."""
