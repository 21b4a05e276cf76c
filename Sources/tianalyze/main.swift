print("tianalyze")
