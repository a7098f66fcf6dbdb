from asset_pipeline.cli import main

main()
