// InfillDocuments: see DESIGN.md.
